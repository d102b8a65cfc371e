module github.com/gatehouse-auth/gatehouse

go 1.26.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	go.etcd.io/bbolt v1.5.0
	golang.org/x/crypto v0.59.0
	golang.org/x/text v0.44.0
)

require (
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
