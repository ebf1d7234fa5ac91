package stream

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the loop around the executor.
type Config struct {
	Group          string        `yaml:"group" doc:"Consumer group of the responders on the actions topic; every responder of one deployment uses the same."`
	History        time.Duration `yaml:"history" doc:"How far back a responder reads a partition's records when it is assigned one, to rebuild what every action went through (and the breakers); requests older than this are never acted on after a restart. Cover the longest an action may wait for approval."`
	ForgetAfter    time.Duration `yaml:"forget_after" doc:"Finished actions untouched for this long are dropped from memory (actions awaiting approval never are)."`
	CommitInterval time.Duration `yaml:"commit_interval" doc:"Longest a handled record's offset waits before it is committed (commits are batched; a record handled again after a crash is recognised by its id)."`
	RetryBackoff   time.Duration `yaml:"retry_backoff" doc:"First wait before handling a record again after a failure (Kafka unreachable, an interrupted vendor call); doubles up to 30s."`
}

// DefaultConfig is the loop's configuration with its defaults.
func DefaultConfig() Config {
	return Config{
		Group:          "trailwatch-respond",
		History:        7 * 24 * time.Hour,
		ForgetAfter:    24 * time.Hour,
		CommitInterval: time.Second,
		RetryBackoff:   time.Second,
	}
}

// maxRetryBackoff caps the wait between attempts at one record.
const maxRetryBackoff = 30 * time.Second

// Validate reports every problem at once, naming the setting.
func (c Config) Validate() error {
	var errs []error
	if c.Group == "" {
		errs = append(errs, errors.New("respond.group: required"))
	}
	if c.History <= 0 {
		errs = append(errs, fmt.Errorf("respond.history: must be positive, got %s", c.History))
	}
	if c.ForgetAfter <= 0 {
		errs = append(errs, fmt.Errorf("respond.forget_after: must be positive, got %s", c.ForgetAfter))
	}
	if c.CommitInterval <= 0 {
		errs = append(errs, fmt.Errorf("respond.commit_interval: must be positive, got %s", c.CommitInterval))
	}
	if c.RetryBackoff <= 0 || c.RetryBackoff > maxRetryBackoff {
		errs = append(errs, fmt.Errorf("respond.retry_backoff: must be positive and at most %s, got %s", maxRetryBackoff, c.RetryBackoff))
	}
	return errors.Join(errs...)
}
