//! The lazy command tree (each command's arguments built only when it is parsed) against
//! the whole tree built up front: for every command name and alias, and the argument
//! shapes that reach help, usage errors and suggestions, the same parse, the same text and
//! the same exit code.

use super::Cli;
use clap::{CommandFactory, FromArgMatches};

/// The tree with every command's arguments built, as before `defer`.
fn full_tree() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// Every word that names a command: names, visible and hidden aliases, hidden commands.
fn command_words() -> Vec<String> {
    let tree = full_tree();
    let mut words = Vec::new();
    for sub in tree.get_subcommands() {
        words.push(sub.get_name().to_string());
        words.extend(sub.get_all_aliases().map(str::to_string));
    }
    words
}

/// What clap makes of `argv` (without `argv[0]`): the parsed command, or the error's kind,
/// exit code, stream and text.
fn outcome(cmd: clap::Command, argv: &[&str]) -> String {
    let argv = std::iter::once("pm2").chain(argv.iter().copied());
    match cmd.try_get_matches_from(argv) {
        Ok(matches) => format!(
            "ok {:?}",
            Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
        ),
        Err(e) => format!(
            "error {:?} exit {} stderr {}\n{}",
            e.kind(),
            e.exit_code(),
            e.use_stderr(),
            e.render()
        ),
    }
}

/// The argument shapes tried after each command word.
fn shapes(word: &str) -> Vec<Vec<&str>> {
    vec![
        vec![word],
        vec![word, "--help"],
        vec![word, "-h"],
        vec![word, "--not-a-flag"],
        vec![word, "--nam"],
        vec![word, "--envv", "x"],
        vec![word, "a", "b", "c", "d", "e"],
        vec![word, "app", "--", "x", "--y"],
        vec!["-s", word, "--no-color", "1"],
        vec![word, "all", "-v"],
        vec![word, "--help", "--not-a-flag"],
    ]
}

#[test]
fn every_command_and_alias_parses_as_with_the_whole_tree() {
    let words = command_words();
    assert!(words.len() > 80, "only {} command words", words.len());
    for word in &words {
        for argv in shapes(word) {
            assert_eq!(
                outcome(Cli::command(), &argv),
                outcome(full_tree(), &argv),
                "pm2 {}",
                argv.join(" ")
            );
        }
    }
}

#[test]
fn top_level_help_and_errors_are_those_of_the_whole_tree() {
    for argv in [
        &[][..],
        &["--help"],
        &["-h"],
        &["-v"],
        &["--version", "start"],
        &["strat"],
        &["nosuchcommand", "x"],
        &["--name", "x"],
        &["--no-colr"],
        &["help"],
        &["help", "start"],
        &["-s"],
    ] {
        assert_eq!(
            outcome(Cli::command(), argv),
            outcome(full_tree(), argv),
            "pm2 {}",
            argv.join(" ")
        );
    }
    assert_eq!(
        Cli::command().render_help().to_string(),
        full_tree().render_help().to_string()
    );
    assert_eq!(
        Cli::command().render_long_help().to_string(),
        full_tree().render_long_help().to_string()
    );
}

#[test]
fn each_commands_about_is_its_variants_once_its_arguments_are_built() {
    // A doc comment (`///`) on an argument struct would replace the variant's line when the
    // command is built: see the note on `Command`.
    let shells = Cli::command();
    let built = full_tree();
    for shell in shells.get_subcommands() {
        let name = shell.get_name();
        let sub = built
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("{name} in the built tree"));
        let text = |s: Option<&clap::builder::StyledStr>| s.map(ToString::to_string);
        assert_eq!(text(sub.get_about()), text(shell.get_about()), "pm2 {name}");
        assert_eq!(
            text(sub.get_long_about()),
            text(shell.get_long_about()),
            "pm2 {name}"
        );
    }
}
