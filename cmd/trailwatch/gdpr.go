package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/sink/gdpr"
)

func newGDPRCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "gdpr", Short: "Data-subject requests over the stored audit trail"}
	var tenant, user, out string
	export := &cobra.Command{
		Use:   "export --tenant T --user U",
		Short: "Write every stored event by or about a person as NDJSON",
		Long: `Writes every event of the tenant by or about the person (a person id or any of
their account ids) as NDJSON, oldest first, each event once: the canonical
event as the source gave it, why it is included (actor, target_user,
object_owner, user_record, related, changes), what the sink stored with it,
and the rules that alerted on it. What "about" covers exactly is in
docs/STORAGE.md. A summary goes to standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tenant == "" || user == "" {
				return fmt.Errorf("--tenant and --user are required")
			}
			ctx := cmd.Context()
			_, st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var w io.Writer = cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			id, n, err := gdpr.Export(ctx, st, tenant, user, w)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d events of tenant %s by or about %s (accounts %v, persons %v, names %v)\n", n, tenant, user, id.Accounts, id.Persons, id.Names)
			return nil
		},
	}
	f := export.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant")
	f.StringVar(&user, "user", "", "the person: a person id or an account id")
	f.StringVar(&out, "out", "", "file to write (created, never overwritten; default standard output)")
	cmd.AddCommand(export)
	return cmd
}
