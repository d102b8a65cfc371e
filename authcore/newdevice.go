package authcore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Known devices (session.new_device_email, see [SessionConfig.NewDeviceEmail]).
const (
	// knownDevicesPrefix + user id is the identifier of a user's one known-devices row.
	knownDevicesPrefix = "known-devices-"
	// knownDevicesMax bounds the row: the most recent keys are kept.
	knownDevicesMax = 20
	// knownDevicesTTL is how long the row lives after the last sign-in.
	knownDevicesTTL = 365 * 24 * time.Hour
	// macKnownDevice is the keyring MAC purpose of device keys.
	macKnownDevice = "known-device"
	// newDeviceEmailType is the message type of the alert.
	newDeviceEmailType = "new-device-sign-in"
)

// checkNewDevice queues the known-device check of a sign-in that just created a session for
// user from ip with User-Agent ua, when the feature is on and the user can get an email:
// not anonymous, with a real address. It never delays the response: parsing, the storage
// transaction and the email all run on the background queue.
func (e *Engine) checkNewDevice(user storage.Record, ip, ua string) {
	if !e.cfg.Session.NewDeviceEmail || !e.HasEmail() {
		return
	}
	email := user.String("email")
	// Placeholder addresses (phone-number users, anonymous guests) are in the reserved
	// .invalid domain (D1): nothing could be delivered there.
	if email == "" || user.Bool("isAnonymous") || strings.HasSuffix(strings.ToLower(email), ".invalid") {
		return
	}
	userID, at := user.ID(), e.clock.Now()
	if len(ua) > maxUserAgentParse {
		ua = strings.Clone(ua[:maxUserAgentParse]) // DeviceName cuts it anyway; don't keep the rest alive
	}
	e.Defer("new-device check", func(ctx context.Context) error {
		device := DeviceName(ua)
		addr, network := deviceNetwork(ip)
		isNew, err := e.recordDevice(ctx, userID, deviceKeyData(userID, device, network))
		if err != nil || !isNew {
			return err
		}
		return e.deliverEmail(ctx, Message{Type: newDeviceEmailType, To: email, Vars: map[string]string{
			"device": device, "ip": addr, "time": at.UTC().Format(time.RFC1123),
		}})
	})
}

// deviceNetwork returns the canonical form of a client IP and its network: the /24 of an
// IPv4 address (IPv4-mapped IPv6 counts as IPv4), the /48 of an IPv6 one. Anything that is
// not an IP (an unusual client-IP function) is "unknown" for both.
func deviceNetwork(ip string) (addr, network string) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown", "unknown"
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return a.String(), p.String()
}

// deviceKeyData is what a device key MACs: user id, device name and network, NUL-separated
// (none of them contains a NUL: ids are generated, names and networks are from fixed
// alphabets).
func deviceKeyData(userID, device, network string) []byte {
	return []byte(userID + "\x00" + device + "\x00" + network)
}

// recordDevice records the device whose key data is data as the most recent of the user's
// known devices and reports whether it is new to a user who already had known devices. A
// user without a live row (first sign-in, sign-up, a year without sign-ins, an unreadable
// row) is recorded silently. Keys are compared with VerifyMAC, so keys made before a secret
// rotation still count (and are rewritten under the current secret). It runs in one storage
// transaction, so concurrent sign-ins never lose each other's keys.
func (e *Engine) recordDevice(ctx context.Context, userID string, data []byte) (isNew bool, err error) {
	identifier := knownDevicesPrefix + userID
	current := base64.RawURLEncoding.EncodeToString(e.keys.MAC(macKnownDevice, data))
	err = e.store.Tx(ctx, func(tx storage.Adapter) error {
		isNew = false
		now := e.clock.Now()
		rec, err := tx.FindOne(ctx, ModelVerification, storage.Eq("identifier", identifier))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		var keys []string
		known := rec != nil && rec.Time("expiresAt").After(now) &&
			json.Unmarshal([]byte(rec.String("value")), &keys) == nil
		if !known {
			keys = nil
		}
		found := slices.IndexFunc(keys, func(k string) bool {
			mac, err := base64.RawURLEncoding.DecodeString(k)
			return err == nil && e.keys.VerifyMAC(macKnownDevice, data, mac)
		})
		if found >= 0 {
			keys = slices.Delete(keys, found, found+1)
		} else {
			isNew = known
		}
		keys = append([]string{current}, keys...)
		if len(keys) > knownDevicesMax {
			keys = keys[:knownDevicesMax]
		}
		value, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		set := storage.Record{"value": string(value), "expiresAt": now.Add(knownDevicesTTL), "updatedAt": now}
		if rec != nil {
			_, err = tx.Update(ctx, ModelVerification, storage.ByID(rec.ID()), set)
			return err
		}
		id, err := e.rand.ID()
		if err != nil {
			return err
		}
		set["id"], set["identifier"], set["createdAt"] = id, identifier, now
		_, err = tx.Create(ctx, ModelVerification, set)
		return err
	})
	if err != nil {
		return false, Internal(err)
	}
	return isNew, nil
}
