package integrity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Signer signs checkpoints.
type Signer struct {
	priv ed25519.PrivateKey
	id   string
}

// KeyID is the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// Public is the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// Sign signs msg.
func (s *Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.priv, msg) }

// LoadSigner reads an Ed25519 private key from a PEM file ("PRIVATE KEY",
// PKCS #8, as `openssl genpkey -algorithm ed25519` writes). With create,
// a missing file is created with a new key (mode 0600, its directory
// 0700).
func LoadSigner(path string, create bool) (*Signer, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		if err := writeNewKey(path); err != nil {
			return nil, false, err
		}
		s, _, err := LoadSigner(path, false)
		return s, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the checkpoint signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, false, fmt.Errorf("signing key %s: want a PEM \"PRIVATE KEY\" block (PKCS #8 Ed25519)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, false, fmt.Errorf("signing key %s: a %T, want Ed25519", path, k)
	}
	return &Signer{priv: priv, id: KeyID(priv.Public().(ed25519.PublicKey))}, false, nil
}

func writeNewKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the signing key's directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating the signing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// PublicKeyPEM encodes pub as a PEM "PUBLIC KEY" (PKIX) block.
func PublicKeyPEM(pub ed25519.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// LoadPublicKeys reads Ed25519 public keys from PEM files: "PUBLIC KEY"
// blocks, or "PRIVATE KEY" blocks whose public half is taken. The result
// is keyed by KeyID.
func LoadPublicKeys(paths ...string) (map[string]ed25519.PublicKey, error) {
	out := map[string]ed25519.PublicKey{}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading public key: %w", err)
		}
		n := 0
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			var pub ed25519.PublicKey
			switch blk.Type {
			case "PUBLIC KEY":
				k, err := x509.ParsePKIXPublicKey(blk.Bytes)
				if err != nil {
					return nil, fmt.Errorf("public key %s: %w", path, err)
				}
				p, ok := k.(ed25519.PublicKey)
				if !ok {
					return nil, fmt.Errorf("public key %s: a %T, want Ed25519", path, k)
				}
				pub = p
			case "PRIVATE KEY":
				k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
				if err != nil {
					return nil, fmt.Errorf("key %s: %w", path, err)
				}
				p, ok := k.(ed25519.PrivateKey)
				if !ok {
					return nil, fmt.Errorf("key %s: a %T, want Ed25519", path, k)
				}
				pub = p.Public().(ed25519.PublicKey)
			default:
				continue
			}
			out[KeyID(pub)] = pub
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("public key %s: no PEM PUBLIC KEY or PRIVATE KEY block", path)
		}
	}
	return out, nil
}
