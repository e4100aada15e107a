// Package cmd wires megasend's command line: flags, configuration, exit
// codes, progress output. It is the only package that knows about the
// process's streams, environment and terminal; the work itself lives in
// sender, store, template, recipient and wechat.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X .../cmd.Version=v1.2.3";
// otherwise it comes from the module's build information.
var Version string

// errInterrupted is the cause of the stop context after the first signal.
var errInterrupted = errors.New("interrupted")

// app is the state one invocation shares between commands: streams, global
// options, logger, and the context the second signal cancels.
type app struct {
	streams Streams
	log     *slog.Logger
	// httpFace builds megasend serve's handler (Main's face).
	httpFace HTTPFace

	// With --log-format json, streams.Err turns each line into a log record
	// (logLines), said is the logger it uses, and rawErr is stderr itself,
	// for the confirmation prompt.
	said   *logLines
	rawErr io.Writer

	configPath string
	dbPath     string
	account    string
	logFormat  string
	quiet      bool
	verbose    bool
	version    bool

	cfg *Config // loaded once by loadConfig

	// kill is cancelled by a second signal: in-flight work stops at once.
	kill context.Context

	// resumeFlags are the campaign flags a printed resume command repeats,
	// so the resumed run is paced as this one was.
	resumeFlags []string

	// notFound is the error of an unknown command, which urfave/cli reports
	// only through a callback.
	notFound error
}

// Main runs megasend with args (args[0] is the program name) and returns the
// process exit code. The first value on sigs stops gracefully (in-flight
// sends finish, the batch is checkpointed, exit 4); a second stops at once.
// face, if given, is what megasend serve answers HTTP with (main.go gives
// the server package's); without it serve refuses to start.
func Main(ctx context.Context, args []string, s Streams, sigs <-chan os.Signal, face ...HTTPFace) int {
	stopCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	killCtx, kill := context.WithCancel(ctx)
	defer kill()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for n := 0; ; n++ {
			select {
			case <-sigs:
				if n == 0 {
					stop(errInterrupted)
				} else {
					kill()
					return
				}
			case <-done:
				return
			}
		}
	}()

	if path := s.getenv("MEGASEND_CPUPROFILE"); path != "" {
		// For profiling the real binary (BENCHMARKS.md); not a user feature.
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
		}
	}
	a := &app{streams: s, kill: killCtx, rawErr: s.Err}
	if len(face) > 0 {
		a.httpFace = face[0]
	}
	a.log = slog.New(slog.NewTextHandler(s.Err, nil))
	app := a.cli()
	args, err := normalizeArgs(app, args)
	if err == nil {
		err = app.RunContext(stopCtx, args)
	}
	if err == nil {
		err = a.notFound
	}
	err = a.damaged(err)
	code := exitCode(err)
	if err != nil && err.Error() != "" {
		fmt.Fprintf(a.streams.Err, "megasend: %v\n", err)
	}
	if a.said != nil {
		a.said.Flush()
	}
	return code
}

func (a *app) cli() *cli.App {
	app := &cli.App{
		Name:     "megasend",
		HelpName: "megasend",
		Usage:    "send WeChat template messages in bulk, resumably",
		UsageText: `megasend [global options] COMMAND [options] [arguments]

Global options may also follow the command: megasend campaign ... -q`,
		Version:   version(),
		Reader:    a.streams.In,
		Writer:    a.streams.Out,
		ErrWriter: a.streams.Err,
		// urfave/cli's own --version is "--version, -v", and -v is megasend's
		// --verbose (scripts use it), so --version is megasend's own flag,
		// with no short form, beside the version command.
		HideVersion:          true,
		EnableBashCompletion: false,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgConfig, Usage: "TOML configuration `FILE`", EnvVars: []string{envConfig}, Destination: &a.configPath},
			&cli.StringFlag{Name: flgDB, Usage: "SQLite database `FILE` (ledger, templates, token cache)", EnvVars: []string{envDB}, Destination: &a.dbPath},
			&cli.StringFlag{Name: flgAccount, Usage: "account `NAME` from the configuration", EnvVars: []string{envAccount}, Destination: &a.account},
			&cli.StringFlag{Name: flgLogFormat, Usage: "log `FORMAT`: text or json (one JSON object per line on stderr)", Value: "text", Destination: &a.logFormat},
			&cli.BoolFlag{Name: flgQuiet, Aliases: []string{"q"}, Usage: "only errors and the final summary", Destination: &a.quiet},
			&cli.BoolFlag{Name: flgVerbose, Aliases: []string{"v"}, Usage: "debug logging", Destination: &a.verbose},
			&cli.BoolFlag{Name: flgVersion, Usage: "print megasend's version and exit", Destination: &a.version},
			// urfave/cli adds --help only while it adds its own help command,
			// which megasend's replaces.
			cli.HelpFlag,
		},
		Before:          a.before,
		Action:          a.root,
		Commands:        a.commands(),
		ExitErrHandler:  func(*cli.Context, error) {}, // exit codes are mapped once, in exitCode
		OnUsageError:    onUsageError,
		CommandNotFound: a.commandNotFound,
	}
	quietBools(app.Flags)
	return app
}

// onUsageError maps a flag-parsing error, which urfave/cli gives no exit
// code, to exit 2, in megasend's words.
func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageError(explainUsage(c, err))
}

// root runs when no command is given: --version, or the help. An argument
// that is not a command gets here too.
func (a *app) root(c *cli.Context) error {
	switch {
	case a.version:
		_, err := fmt.Fprintln(a.streams.Out, "megasend", version())
		return err
	case c.Args().Present():
		a.commandNotFound(c, c.Args().First())
		return nil
	}
	return cli.ShowAppHelp(c)
}

// commands lists every command explicitly; nothing registers itself.
func (a *app) commands() []*cli.Command {
	cmds := []*cli.Command{
		a.sandboxCommand(),
		a.campaignCommand(),
		a.templateCommand(),
		a.reportCommand(),
		a.batchesCommand(),
		a.retryCommand(),
		a.configCommand(),
		a.checkCommand(),
		a.apikeyCommand(),
		a.serveCommand(),
		a.helpCommand(),
		{
			Name:  "version",
			Usage: "print megasend's version",
			Action: func(c *cli.Context) error {
				_, err := fmt.Fprintln(a.streams.Out, "megasend", version())
				return err
			},
		},
	}
	var setUsage func([]*cli.Command)
	setUsage = func(cmds []*cli.Command) {
		for _, c := range cmds {
			if c.OnUsageError == nil {
				c.OnUsageError = onUsageError
			}
			quietBools(c.Flags)
			if len(c.Subcommands) > 0 && findCommand(c.Subcommands, "help") == nil {
				c.Subcommands = append(c.Subcommands, subcommandHelp())
			}
			setUsage(c.Subcommands)
		}
	}
	setUsage(cmds)
	return cmds
}

// quietBools drops "(default: false)" from the help of every boolean flag
// that is off unless given: it says nothing, on every line.
func quietBools(flags []cli.Flag) {
	for _, f := range flags {
		// Only written when unset: cli.HelpFlag, a package variable shared
		// by every run, has it set already.
		if bf, ok := f.(*cli.BoolFlag); ok && !bf.Value && !bf.DisableDefaultText {
			bf.DisableDefaultText = true
		}
	}
}

// subcommandHelp is "megasend template help [SUBCOMMAND]", in place of
// urfave/cli's own (which would say "Shows a list of commands" in a help
// whose every other line starts in lower case). With an argument it never
// runs: normalizeArgs turns "template help add" into "template add --help".
func subcommandHelp() *cli.Command {
	return &cli.Command{
		Name:            "help",
		Usage:           "show the subcommands, or one subcommand's options",
		ArgsUsage:       "[SUBCOMMAND]",
		HideHelpCommand: true,
		Action: func(c *cli.Context) error {
			return cli.ShowSubcommandHelp(c.Lineage()[1])
		},
	}
}

// helpCommand is "megasend help [COMMAND [SUBCOMMAND]]". With arguments
// it never runs: globalsFirst turns "help X" into "X --help" first.
func (a *app) helpCommand() *cli.Command {
	return &cli.Command{
		Name:            "help",
		Usage:           "show the commands, or one command's options",
		ArgsUsage:       "[COMMAND [SUBCOMMAND]]",
		HideHelpCommand: true,
		Action: func(c *cli.Context) error {
			return cli.ShowAppHelp(c.Lineage()[1])
		},
	}
}

// before applies the global flags: logger format and level.
func (a *app) before(*cli.Context) error {
	level := slog.LevelInfo
	switch {
	case a.verbose:
		level = slog.LevelDebug
	case a.quiet:
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	var w io.Writer = a.streams.Err
	switch a.logFormat {
	case "text", "":
		// A person at a terminal reads sentences; a parser reads slog's text.
		if !a.streams.ErrIsTerminal {
			a.log = slog.New(slog.NewTextHandler(w, opts))
			break
		}
		// The bar and the log lines share the terminal through one screen
		// (screen.go), so that neither is ever glued to the other.
		sc, ok := w.(*screen)
		if !ok {
			sc = newScreen(w)
			a.streams.Err = sc
		}
		a.log = slog.New(newTermHandler(sc, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(w, opts))
		a.said = &logLines{log: slog.New(slog.NewJSONHandler(w, nil))}
		a.streams.Err = a.said
	default:
		return usageErrorf("--%s: want text or json, got %q", flgLogFormat, a.logFormat)
	}
	return nil
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// commandNotFound answers an unknown command or subcommand. urfave/cli
// returns no error after it, so the exit code is set here: a typo in a cron
// line must not look like success.
func (a *app) commandNotFound(c *cli.Context, name string) {
	cmds, help := c.App.Commands, "megasend --help"
	if cmd := c.Command; cmd != nil && cmd.Name != c.App.Name && len(cmd.Subcommands) > 0 {
		cmds, help = cmd.Subcommands, cmd.HelpName+" --help"
	}
	a.notFound = usageErrorf("unknown command %q%s; see '%s'", name, didYouMean(name, commandNames(cmds), ""), help)
}
