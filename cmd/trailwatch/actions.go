package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/respond/stream"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

func newActionsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "actions",
		Short: "On-call: list and show actions, approve or reject one that waits, undo a freeze",
		Long: `The on-call commands read the history of every action from crm.actions
(the last respond.history, or --since) and write approvals, rejections and
undos to it, keyed by tenant; the responder acts on them. The person
deciding is --actor, or $USER, and is recorded on the action.`,
	}
	cmd.AddCommand(newActionsListCmd(a), newActionsShowCmd(a), newActionsDecideCmd(a, "approve"),
		newActionsDecideCmd(a, "reject"), newActionsDecideCmd(a, "undo"))
	return cmd
}

// onCall builds the service over the configured Kafka; withWriter also
// opens a producer for the records (close it with the returned func).
func onCall(a *app, withWriter bool) (*oncall.Service, func(), error) {
	cfg, err := a.flags.load()
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.Kafka.Validate(); err != nil {
		return nil, nil, err
	}
	src := oncall.KafkaSource{Config: cfg.Kafka}
	if !withWriter {
		return oncall.NewService(src, nil, cfg.Respond.Loop.History, nil), func() {}, nil
	}
	rec, closeRec, err := actionsRecorder(cfg)
	if err != nil {
		return nil, nil, err
	}
	return oncall.NewService(src, rec, cfg.Respond.Loop.History, nil), closeRec, nil
}

// actionsRecorder records action records on the actions topic, as the
// responder does (for the commands that request or record actions: the
// on-call commands, revert --apply, audit --actions). Call the function
// it returns when done.
func actionsRecorder(cfg *Config) (*stream.Recorder, func(), error) {
	if err := cfg.Kafka.Validate(); err != nil {
		return nil, nil, err
	}
	p, err := kafka.NewProducer(cfg.Kafka, zerolog.Nop(), nil)
	if err != nil {
		return nil, nil, err
	}
	rec, err := stream.NewRecorder(p, cfg.Kafka.Topics.Actions.Name)
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	return rec, func() { p.Close() }, nil
}

func newActionsListCmd(a *app) *cobra.Command {
	var (
		f             oncall.Filter
		since, format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List actions, most recently changed first",
		Example: `  trailwatch actions list --status awaiting_approval
  trailwatch actions list --tenant acme --since 2h --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format: %q, want table or json", format)
			}
			if since != "" {
				t, err := oncall.ParseSince(since, time.Now())
				if err != nil {
					return fmt.Errorf("--since: %w", err)
				}
				f.Since = t
			}
			svc, done, err := onCall(a, false)
			if err != nil {
				return err
			}
			defer done()
			acts, err := svc.List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSONLines(cmd.OutOrStdout(), acts, func(x oncall.Action) any { return x.Current })
			}
			return printActions(cmd.OutOrStdout(), acts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Tenant, "tenant", "", "only this tenant's actions")
	fl.StringVar(&f.Status, "status", "", "only actions whose current status is this (awaiting_approval, failed, done, …)")
	fl.StringVar(&f.Type, "type", "", "only actions of this type (freeze_account, notify, …)")
	fl.StringVar(&since, "since", "", "only actions changed since this duration ago (24h) or time (RFC 3339); default respond.history")
	fl.StringVar(&format, "format", "table", "output: table, or json (one current record per line)")
	return cmd
}

func newActionsShowCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an action and every record of its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format: %q, want table or json", format)
			}
			svc, done, err := onCall(a, false)
			if err != nil {
				return err
			}
			defer done()
			act, err := svc.Show(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSONLines(cmd.OutOrStdout(), act.History, func(r alert.Action) any { return r })
			}
			return printAction(cmd.OutOrStdout(), act)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table, or json (one record per line)")
	return cmd
}

// newActionsDecideCmd is approve, reject or undo.
func newActionsDecideCmd(a *app, op string) *cobra.Command {
	var actor, reason string
	short := map[string]string{
		"approve": "Approve an action awaiting approval (or retry one that failed, or override a skip)",
		"reject":  "Reject an action awaiting approval",
		"undo":    "Undo a freeze: unfreeze the account on the systems that froze it",
	}[op]
	cmd := &cobra.Command{
		Use:   op + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if actor == "" {
				actor = os.Getenv("USER")
			}
			if err := oncall.ValidActor(actor); err != nil {
				return fmt.Errorf("--actor: %w", err)
			}
			svc, done, err := onCall(a, true)
			if err != nil {
				return err
			}
			defer done()
			ctx, id := cmd.Context(), args[0]
			var rec alert.Action
			switch op {
			case "approve":
				rec, err = svc.Approve(ctx, id, actor)
			case "reject":
				rec, err = svc.Reject(ctx, id, actor, reason)
			case "undo":
				rec, err = svc.Undo(ctx, id, actor)
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if op == "undo" {
				_, err = fmt.Fprintf(w, "undo of %s requested by %s: action %s (unfreeze_account); follow it with `trailwatch actions show %s`\n", id, actor, rec.ID, rec.ID)
				return err
			}
			_, err = fmt.Fprintf(w, "%s %s by %s\n", id, rec.Status, actor)
			return err
		},
	}
	cmd.Flags().StringVar(&actor, "actor", "", "who decides, recorded on the action (default $USER)")
	if op == "reject" {
		cmd.Flags().StringVar(&reason, "reason", "", "why, recorded on the action")
	}
	return cmd
}

func writeJSONLines[T any](w io.Writer, items []T, pick func(T) any) error {
	enc := json.NewEncoder(w)
	for _, it := range items {
		if err := enc.Encode(pick(it)); err != nil {
			return err
		}
	}
	return nil
}

func printActions(w io.Writer, acts []oncall.Action) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tTYPE\tACCOUNT\tSTATUS\tMODE\tRULE\tUPDATED\tDETAIL")
	for _, x := range acts {
		c := x.Current
		detail := c.Detail
		if c.Error != "" {
			detail = c.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", clean(c.ID, 40), clean(c.Tenant, 20), clean(c.Type, 20),
			clean(account(c), 40), clean(c.Status, 20), clean(c.Mode, 10), clean(c.RuleID, 40),
			alert.FormatTime(x.Updated()), clean(detail, 80))
	}
	return tw.Flush()
}

func printAction(w io.Writer, x oncall.Action) error {
	c := x.Current
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"id", c.ID}, {"type", c.Type}, {"tenant", c.Tenant}, {"account", account(c)}, {"account type", c.TargetType},
		{"status", c.Status}, {"mode", c.Mode}, {"rule", strings.TrimSuffix(c.RuleID+" v"+c.RuleVersion, " v")},
		{"alert", c.AlertID}, {"severity", c.Severity}, {"summary", c.Summary}, {"undoes", c.Undoes},
	} {
		if kv[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[0], clean(kv[1], 200))
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "RECORDED\tSTATUS\tACTOR\tMODE\tATTEMPTS\tDETAIL\tERROR")
	for _, r := range x.History {
		at := r.RequestedAt
		if r.RecordedAt != nil {
			at = *r.RecordedAt
		}
		attempts := ""
		if r.Attempt > 0 {
			attempts = strconv.Itoa(r.Attempt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", alert.FormatTime(at), clean(r.Status, 20), clean(r.Actor, 40),
			clean(r.Mode, 10), attempts, clean(r.Detail, 120), clean(r.Error, 200))
	}
	return tw.Flush()
}

// account names the target for people: login (id) when both are known.
func account(a alert.Action) string {
	switch {
	case a.TargetName != "" && a.Target != "":
		return a.TargetName + " (" + a.Target + ")"
	case a.TargetName != "":
		return a.TargetName
	}
	return a.Target
}

// clean makes a field safe for a terminal table: control characters
// (escape sequences from an attacker-chosen login name, tabs that break
// the columns) become '?', and long values are cut.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
