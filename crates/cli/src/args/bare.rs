//! The commands a script or a prompt runs most, typed with no argument (`pm2 list`,
//! `pm2 jlist`...), recognised without clap: building clap's tree of every command and
//! flag costs more than the rest of such a command's own work. Anything else, or any
//! word more, goes to clap as before.

use super::{Cli, Command};
use std::ffi::OsString;

/// The command `argv` is when it is one of these words alone (and `argv[0]`).
pub fn parse(argv: &[OsString]) -> Option<Cli> {
    let [_, word] = argv else {
        return None;
    };
    let command = match word.to_str()? {
        "list" | "ls" | "l" | "ps" | "status" => Command::List,
        "jlist" => Command::Jlist,
        "prettylist" => Command::Prettylist,
        "ping" => Command::Ping,
        _ => return None,
    };
    Some(Cli {
        version: false,
        no_color: false,
        silent: false,
        command: Some(command),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn each_word_alone_is_what_clap_makes_of_it() {
        for word in [
            "list",
            "ls",
            "l",
            "ps",
            "status",
            "jlist",
            "prettylist",
            "ping",
        ] {
            let argv: Vec<OsString> = vec!["pm2".into(), word.into()];
            let ours = parse(&argv).expect("a bare command");
            let clap = Cli::try_parse_from(&argv).expect("clap parses it");
            assert_eq!(format!("{ours:?}"), format!("{clap:?}"), "pm2 {word}");
        }
    }

    #[test]
    fn anything_more_goes_to_clap() {
        for argv in [
            &["pm2"][..],
            &["pm2", "list", "--no-color"],
            &["pm2", "-s", "list"],
            &["pm2", "start"],
            &["pm2", "List"],
            &["pm2", "jlist", "x"],
        ] {
            let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
            assert!(parse(&argv).is_none(), "{argv:?}");
        }
    }
}
