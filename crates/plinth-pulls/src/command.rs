//! The comment commands of DESIGN §5.1, read from the first line of a pull-request comment:
//! `plinth plan [ENV…] [--stack GLOB]`, `plinth apply ENV [--stack GLOB]`,
//! `plinth unlock [ENV]`, `plinth approve_policies [ENV] [--stack GLOB]`, `plinth help`.

/// A command a comment gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Plan the affected instances of these environments (none named: every environment).
    Plan {
        /// Environments named.
        envs: Vec<String>,
        /// `--stack` globs.
        stacks: Vec<String>,
    },
    /// Apply the saved plans of one environment.
    Apply {
        /// The environment.
        env: String,
        /// `--stack` globs.
        stacks: Vec<String>,
    },
    /// Release the pull request's locks (of one environment, or all).
    Unlock {
        /// The environment, when named.
        env: Option<String>,
    },
    /// Approve the policy denials of the current plans (owners of the policy only).
    ApprovePolicies {
        /// The environment, when named.
        env: Option<String>,
        /// `--stack` globs.
        stacks: Vec<String>,
    },
    /// The list of commands.
    Help,
}

impl Command {
    /// The command's name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Plan { .. } => "plan",
            Command::Apply { .. } => "apply",
            Command::Unlock { .. } => "unlock",
            Command::ApprovePolicies { .. } => "approve_policies",
            Command::Help => "help",
        }
    }
}

/// What a comment says to plinth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not addressed to plinth (its first line does not start with `plinth`).
    NotForUs,
    /// A command.
    Command(Command),
    /// Addressed to plinth but not a command it knows: the reply is this reason and the help.
    Invalid(String),
}

/// The longest first line read; a longer one is refused rather than scanned.
const MAX_LINE: usize = 2_000;

/// Reads the command of a comment.
pub fn parse(body: &str) -> Parsed {
    let Some(line) = body.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Parsed::NotForUs;
    };
    let mut words = line.split_whitespace();
    if words.next() != Some("plinth") {
        return Parsed::NotForUs;
    }
    if line.len() > MAX_LINE {
        return Parsed::Invalid(format!(
            "the command line is longer than {MAX_LINE} characters"
        ));
    }
    let Some(verb) = words.next() else {
        return Parsed::Command(Command::Help);
    };
    let rest: Vec<&str> = words.collect();
    match args(&rest) {
        Err(why) => Parsed::Invalid(why),
        Ok((names, stacks)) => match (verb, names.len()) {
            ("plan", _) => Parsed::Command(Command::Plan {
                envs: names,
                stacks,
            }),
            ("apply", 1) => Parsed::Command(Command::Apply {
                env: names.into_iter().next().expect("one name"),
                stacks,
            }),
            ("apply", 0) => {
                Parsed::Invalid("`plinth apply` needs the environment: `plinth apply ENV`".into())
            }
            ("apply", _) => Parsed::Invalid(
                "`plinth apply` applies one environment at a time: `plinth apply ENV`".into(),
            ),
            ("unlock", 0 | 1) if stacks.is_empty() => Parsed::Command(Command::Unlock {
                env: names.into_iter().next(),
            }),
            ("unlock", _) => {
                Parsed::Invalid("`plinth unlock` takes at most one environment".into())
            }
            ("approve_policies" | "approve-policies", 0 | 1) => {
                Parsed::Command(Command::ApprovePolicies {
                    env: names.into_iter().next(),
                    stacks,
                })
            }
            ("approve_policies" | "approve-policies", _) => {
                Parsed::Invalid("`plinth approve_policies` takes at most one environment".into())
            }
            ("help", _) => Parsed::Command(Command::Help),
            (other, _) => Parsed::Invalid(format!("`{}` is not a plinth command", clip(other))),
        },
    }
}

/// Environment names and `--stack` globs of a command's arguments.
fn args(words: &[&str]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut names = Vec::new();
    let mut stacks = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if let Some(glob) = w.strip_prefix("--stack=") {
            stacks.push(glob.to_string());
        } else if w == "--stack" || w == "-s" {
            i += 1;
            let glob = words
                .get(i)
                .filter(|g| !g.starts_with('-'))
                .ok_or("`--stack` needs a glob: `--stack 'network/*'`")?;
            stacks.push(glob.trim_matches(['\'', '"']).to_string());
        } else if w.starts_with('-') {
            return Err(format!("unknown option `{}`", clip(w)));
        } else if valid_env_name(w) {
            names.push(w.to_string());
        } else {
            return Err(format!("`{}` is not an environment name", clip(w)));
        }
        i += 1;
    }
    Ok((names, stacks))
}

fn valid_env_name(w: &str) -> bool {
    w.len() <= 64
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A word of the comment, shortened and stripped of Markdown's active characters before it
/// is quoted back.
fn clip(word: &str) -> String {
    word.chars()
        .filter(|c| !matches!(c, '`' | '<' | '>' | '@' | '[' | ']'))
        .take(40)
        .collect()
}

/// The reply to `plinth help` and to anything plinth did not understand.
pub fn help_text() -> String {
    "\
**plinth commands** (the first line of a comment):

| command | does |
|---|---|
| `plinth plan [ENV…] [--stack GLOB]` | plans the affected instances again (all environments, or those named) |
| `plinth apply ENV [--stack GLOB]` | applies this pull request's saved plans of ENV, along the graph |
| `plinth approve_policies [ENV] [--stack GLOB]` | approves the policy denials of the current plans (policy owners only) |
| `plinth unlock [ENV]` | releases this pull request's locks (of ENV, or all) |
| `plinth help` | shows this list |
"
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(body: &str) -> Command {
        match parse(body) {
            Parsed::Command(c) => c,
            other => panic!("{body:?} gave {other:?}"),
        }
    }

    #[test]
    fn reads_each_command_from_the_first_line() {
        assert_eq!(
            cmd("plinth plan"),
            Command::Plan {
                envs: vec![],
                stacks: vec![]
            }
        );
        assert_eq!(
            cmd("\n  plinth plan staging prod --stack 'net/*'\nthanks"),
            Command::Plan {
                envs: vec!["staging".into(), "prod".into()],
                stacks: vec!["net/*".into()]
            }
        );
        assert_eq!(
            cmd("plinth apply prod --stack=app"),
            Command::Apply {
                env: "prod".into(),
                stacks: vec!["app".into()]
            }
        );
        assert_eq!(cmd("plinth unlock"), Command::Unlock { env: None });
        assert_eq!(
            cmd("plinth unlock dev"),
            Command::Unlock {
                env: Some("dev".into())
            }
        );
        assert_eq!(cmd("plinth"), Command::Help);
        assert_eq!(cmd("plinth help"), Command::Help);
        assert_eq!(
            cmd("plinth approve_policies prod"),
            Command::ApprovePolicies {
                env: Some("prod".into()),
                stacks: vec![]
            }
        );
    }

    #[test]
    fn other_comments_are_not_for_plinth() {
        for body in [
            "",
            "LGTM",
            "please plinth apply",
            "plinthx plan",
            "> plinth apply prod",
        ] {
            assert_eq!(parse(body), Parsed::NotForUs, "{body:?}");
        }
    }

    #[test]
    fn mistakes_get_a_reason() {
        for (body, says) in [
            ("plinth apply", "needs the environment"),
            ("plinth apply dev prod", "one environment at a time"),
            ("plinth destroy prod", "`destroy` is not a plinth command"),
            ("plinth plan --force", "unknown option `--force`"),
            ("plinth plan --stack", "needs a glob"),
            ("plinth plan dev;rm", "not an environment name"),
            ("plinth unlock dev prod", "at most one"),
        ] {
            match parse(body) {
                Parsed::Invalid(why) => assert!(why.contains(says), "{body:?}: {why}"),
                other => panic!("{body:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn quoted_words_cannot_inject_markdown() {
        let Parsed::Invalid(why) = parse("plinth `@team` <img>") else {
            panic!("invalid expected")
        };
        assert!(!why.contains('@') && !why.contains('<'), "{why}");
    }
}
