package adapter

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Secret says where a credential lives: a file (mounted by the
// orchestrator) or an environment variable. Never a flag, never the config
// file itself. The value is read at start-up and never logged.
type Secret struct {
	File string `yaml:"file" doc:"Path of a file holding the secret; surrounding whitespace is trimmed."`
	Env  string `yaml:"env" doc:"Name of an environment variable holding the secret, used when file is empty."`
}

// IsSet reports whether a location is configured.
func (s Secret) IsSet() bool { return s.File != "" || s.Env != "" }

// Validate checks that exactly one location is given; name is the setting
// path used in the message.
func (s Secret) Validate(name string) error {
	switch {
	case s.File != "" && s.Env != "":
		return fmt.Errorf("%s: set file or env, not both", name)
	case !s.IsSet():
		return fmt.Errorf("%s: a file or env is required", name)
	}
	return nil
}

// Load reads the secret. Errors name the location, never the value.
func (s Secret) Load() (string, error) {
	var v string
	switch {
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("reading secret file: %w", err)
		}
		v = strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", s.File)
		}
	case s.Env != "":
		v = strings.TrimSpace(os.Getenv(s.Env))
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty or unset", s.Env)
		}
	default:
		return "", errors.New("no secret location configured")
	}
	return v, nil
}

// String never shows a value, only where it comes from.
func (s Secret) String() string {
	switch {
	case s.File != "":
		return "file:" + s.File
	case s.Env != "":
		return "env:" + s.Env
	}
	return "unset"
}
