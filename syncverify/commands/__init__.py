"""The subcommands, one module each (`syncverify.commands.check`, `.rules`, `.explain`,
`.simulate`, `.schema`, `.init`, `.graph`, `.timeline`): a frozen arguments dataclass and a
function `(arguments, out, err) -> exit code` that writes the command's output. `syncverify.cli`
only parses the command line into the arguments and calls these; tests may call them directly.

Commands return exit codes (0, 1 or 2) and never exit; checking itself is the library's
(`syncverify.checking`), which prints nothing. Each command imports what it needs when it runs,
so `syncverify --help` stays fast.
"""
