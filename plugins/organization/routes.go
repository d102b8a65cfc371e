package organization

import "github.com/gatehouse-auth/gatehouse/authcore"

// endpoints lists the base organization routes (teams and dynamic roles register their own).
func (p *Plugin) endpoints() []authcore.Endpoint {
	return nil
}
