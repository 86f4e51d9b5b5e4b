//! The environment a Lambda runtime expects (spec §1.5), and the user's own variables
//! (`--env KEY=VALUE`, `--env-file .env`).

use std::path::Path;
use std::time::{Duration, SystemTime};

/// What names the function in its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionIdentity {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub name: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub memory_size: u32,
    /// `AWS_REGION`, `AWS_DEFAULT_REGION`.
    pub region: String,
    /// The function timeout (`AWS_LAMBDA_FUNCTION_TIMEOUT`, whole seconds, as RIE reads it).
    pub timeout: Duration,
}

/// The variables Lambda sets for a function, then `user` (which wins).
///
/// `AWS_LAMBDA_RUNTIME_API` is added per server; `AWS_LAMBDA_MAX_CONCURRENCY` is never set
/// (it switches the clients into Lambda Managed Instances' concurrent mode).
pub(crate) fn lambda_environment(
    f: &FunctionIdentity,
    handler: Option<&str>,
    task_root: &Path,
    user: &[(String, String)],
) -> Vec<(String, String)> {
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let day = now.get(..10).unwrap_or("1970-01-01").replace('-', "/");
    let stream = format!("{day}/[$LATEST]{}", uuid::Uuid::new_v4().simple());
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_FUNCTION_NAME".into(), f.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            f.memory_size.to_string(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_TIMEOUT".into(),
            f.timeout.as_millis().div_ceil(1000).max(1).to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", f.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), stream),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("AWS_REGION".into(), f.region.clone()),
        ("AWS_DEFAULT_REGION".into(), f.region.clone()),
        ("LAMBDA_TASK_ROOT".into(), task_root.display().to_string()),
        ("TZ".into(), ":UTC".into()),
    ];
    if let Some(h) = handler {
        env.push(("_HANDLER".into(), h.to_string()));
    }
    for (k, v) in user {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

/// Checks an environment variable name: letters, digits and `_`, not starting with a digit.
pub(crate) fn check_name(k: &str) -> Result<(), String> {
    let ok = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{k}' is not a variable name (letters, digits and _, not starting with a digit)"
        ))
    }
}

/// Reads a dotenv file: `KEY=VALUE` lines, `#` comments, blank lines, an optional `export `,
/// values optionally in single quotes (taken literally) or double quotes (`\n`, `\"`, `\\`).
pub(crate) fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--env-file {}: {e}", path.display()))?;
    parse_env_text(&text).map_err(|(line, e)| format!("--env-file {} line {line}: {e}", path.display()))
}

fn parse_env_text(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((k, v)) = line.split_once('=') else {
            return Err((i + 1, format!("'{line}' is not KEY=VALUE")));
        };
        let k = k.trim();
        check_name(k).map_err(|e| (i + 1, e))?;
        let v = v.trim();
        let value = if let Some(inner) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            inner.to_string()
        } else if let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            let mut s = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some(other) => s.push(other),
                        None => s.push('\\'),
                    }
                } else {
                    s.push(c);
                }
            }
            s
        } else {
            // An unquoted value ends at a ` #` comment.
            v.split(" #").next().unwrap_or("").trim_end().to_string()
        };
        out.push((k.to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_are_checked() {
        assert!(check_name("A_1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("1A").is_err());
        assert!(check_name("A-B").is_err());
    }

    #[test]
    fn env_files_read_like_dotenv() {
        let text = "# comment\n\nA=1\nexport B = two words # note\nC='lit \\n $x'\nD=\"x\\ny \\\"q\\\"\"\n";
        let got = parse_env_text(text).expect("parses");
        assert_eq!(
            got,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "lit \\n $x".into()),
                ("D".into(), "x\ny \"q\"".into()),
            ]
        );
        assert_eq!(parse_env_text("A=1\nbad line\n").map_err(|e| e.0), Err(2));
    }

    #[test]
    fn the_lambda_environment_has_what_clients_require_and_user_values_win() {
        let f = FunctionIdentity {
            name: "fn".into(),
            memory_size: 256,
            region: "eu-west-1".into(),
            timeout: Duration::from_millis(2500),
        };
        let env = lambda_environment(
            &f,
            Some("app.handler"),
            Path::new("/code"),
            &[("TZ".into(), "Europe/Paris".into()), ("MINE".into(), "1".into())],
        );
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("AWS_LAMBDA_FUNCTION_NAME"), Some("fn"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_VERSION"), Some("$LATEST"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("256"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_TIMEOUT"), Some("3"));
        assert_eq!(get("AWS_LAMBDA_LOG_GROUP_NAME"), Some("/aws/lambda/fn"));
        assert_eq!(get("AWS_REGION"), Some("eu-west-1"));
        assert_eq!(get("AWS_DEFAULT_REGION"), Some("eu-west-1"));
        assert_eq!(get("_HANDLER"), Some("app.handler"));
        assert_eq!(get("LAMBDA_TASK_ROOT"), Some("/code"));
        assert_eq!(get("TZ"), Some("Europe/Paris"));
        assert_eq!(get("MINE"), Some("1"));
        assert_eq!(env.iter().filter(|(k, _)| k == "TZ").count(), 1);
        let stream = get("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_default();
        assert!(
            stream.contains("/[$LATEST]") && stream.len() == "2026/01/01/[$LATEST]".len() + 32,
            "{stream}"
        );
        assert!(get("AWS_LAMBDA_MAX_CONCURRENCY").is_none());
    }
}
