//! What a panel may show of an error. Panels reach Viewers, who need not know where Grafana
//! keeps its files, so a server path in a message keeps only its file name ("…/sales.db");
//! the plugin log and the health check, which admins read, keep the whole path.

/// Ends a message that had a path shortened.
const WHERE_THE_PATH_IS: &str =
    " (Save & test in the data source settings shows the full path to an admin)";

/// `message` with every absolute path cut to its last component.
pub fn without_server_paths(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut shortened = false;
    let mut rest = message;
    let mut previous: Option<char> = None;
    while let Some(at) = rest.find('/') {
        let before = rest[..at].chars().next_back().or(previous);
        let starts_path = before.is_none_or(|c| c.is_whitespace() || "\"'(=".contains(c));
        let token_end = rest[at..]
            .find(|c: char| c.is_whitespace() || "\"'()".contains(c))
            .map_or(rest.len(), |end| at + end);
        let token = &rest[at..token_end];
        match token.rfind('/') {
            Some(last) if starts_path && last > 0 => {
                out.push_str(&rest[..at]);
                out.push('…');
                out.push_str(&token[last..]);
                shortened = true;
            }
            _ => out.push_str(&rest[..token_end]),
        }
        previous = rest[..token_end].chars().next_back().or(previous);
        rest = &rest[token_end..];
    }
    out.push_str(rest);
    if shortened {
        out.push_str(WHERE_THE_PATH_IS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_their_file_name_and_urls_stay() {
        assert_eq!(
            without_server_paths("the database file /var/lib/grafana/pulso/1/sales.db was deleted"),
            format!("the database file …/sales.db was deleted{WHERE_THE_PATH_IS}")
        );
        assert_eq!(
            without_server_paths("sqlitePath \"/data/x.db\" is a folder"),
            format!("sqlitePath \"…/x.db\" is a folder{WHERE_THE_PATH_IS}")
        );
        for unchanged in [
            "the LLM at http://10.0.0.5:11434/v1/chat/completions timed out",
            "use 1/5 or 0-10 as the scale",
            "a ratio of 3 / 4",
            "nothing to see",
        ] {
            assert_eq!(without_server_paths(unchanged), unchanged);
        }
    }
}
