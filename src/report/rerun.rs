//! The `rerun` line of a report: the command line that ran it, quoted for a POSIX
//! shell, so a reader can repeat the run from the report alone.

/// Quotes `args` (argv, program first) as one shell command starting with `assure`.
pub fn command(args: &[String]) -> String {
    let mut out = vec!["assure".to_owned()];
    out.extend(args.iter().skip(1).map(|a| quote(a)));
    out.join(" ")
}

/// Drops `--shard K/N` (and `--shard=K/N`): a merged report reruns the whole thing.
pub fn without_shard(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if a == "--shard" {
            skip = true;
        } else if !a.starts_with("--shard=") {
            out.push(a.clone());
        }
    }
    out
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_a_shell_would_split() {
        let args: Vec<String> = [
            "/x/assure",
            "run",
            "--tags",
            "@a and not @b",
            "--input",
            "n=it's",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            command(&args),
            r"assure run --tags '@a and not @b' --input 'n=it'\''s'"
        );
        let sharded: Vec<String> = ["assure", "run", "--shard", "1/3", "--shard=2/3", "-v"]
            .map(String::from)
            .to_vec();
        assert_eq!(without_shard(&sharded), ["assure", "run", "-v"]);
    }
}
