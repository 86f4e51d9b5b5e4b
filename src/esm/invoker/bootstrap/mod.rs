//! Handlers by name (`--handler app.handler --runtime python3.12`): the bundled stdlib-only
//! bootstraps for Python and Node (shipped inside the binary, written to a temp dir), or the
//! official runtime interface client (`--ric`), turned into a command line and environment
//! for a warm [`super::runtime_api`] instance. `--layer` directories are laid out as `/opt`.

use std::path::{Path, PathBuf};

/// The bundled Python bootstrap.
const PYTHON_BOOTSTRAP: &str = include_str!("python.py");
/// The bundled Node.js bootstrap.
const NODE_BOOTSTRAP: &str = include_str!("node.mjs");

/// A Lambda managed runtime kinlocal can stand in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `python3.<minor>` (9–14).
    Python(u32),
    /// `nodejs<major>.x` (18–24).
    Node(u32),
}

impl Runtime {
    /// Parses an AWS runtime identifier (`python3.12`, `nodejs22.x`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let supported = "python3.9 … python3.14 or nodejs18.x … nodejs24.x";
        if let Some(minor) = s.strip_prefix("python3.") {
            return match minor.parse::<u32>() {
                Ok(m @ 9..=14) => Ok(Self::Python(m)),
                _ => Err(format!("'{s}' is not a supported runtime ({supported})")),
            };
        }
        if let Some(major) = s.strip_prefix("nodejs").and_then(|r| r.strip_suffix(".x")) {
            return match major.parse::<u32>() {
                Ok(m @ 18..=24) if m % 2 == 0 => Ok(Self::Node(m)),
                _ => Err(format!("'{s}' is not a supported runtime ({supported})")),
            };
        }
        Err(format!("'{s}' is not a supported runtime ({supported})"))
    }

    /// The AWS identifier.
    pub fn id(self) -> String {
        match self {
            Self::Python(m) => format!("python3.{m}"),
            Self::Node(m) => format!("nodejs{m}.x"),
        }
    }

    /// `AWS_EXECUTION_ENV` as Lambda sets it.
    pub(crate) fn execution_env(self) -> String {
        format!("AWS_Lambda_{}", self.id())
    }
}

/// How a handler by name is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HandlerSpec {
    /// `dir/file.function`.
    pub handler: String,
    /// The runtime.
    pub runtime: Runtime,
    /// `LAMBDA_TASK_ROOT`; default: the handler's directory.
    pub task_root: Option<PathBuf>,
    /// The interpreter (`--python` / `--node`); default: `python3.X` if on PATH, else
    /// `python3`; `node`.
    pub interpreter: Option<PathBuf>,
    /// Run the official runtime interface client instead of the bundled bootstrap.
    pub ric: bool,
    /// Layer directories, in order (`/opt` layout).
    pub layers: Vec<PathBuf>,
}

/// A handler turned into what a warm instance runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepared {
    /// The bootstrap command line.
    pub command: Vec<String>,
    /// `_HANDLER` (relative to the task root).
    pub handler: String,
    /// `LAMBDA_TASK_ROOT` (absolute).
    pub task_root: PathBuf,
    /// Variables the runtime adds: `AWS_EXECUTION_ENV`, layer paths.
    pub env: Vec<(String, String)>,
}

/// Why a handler cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BootstrapError {
    /// The task root is not a directory.
    #[error("--task-root {0} is not a directory")]
    TaskRoot(String),
    /// A layer is not a directory.
    #[error("--layer {0} is not a directory")]
    Layer(String),
    /// The bundled bootstrap could not be written.
    #[error("cannot write the bundled bootstrap to {path}: {detail}")]
    Write {
        /// Where.
        path: String,
        /// Why.
        detail: String,
    },
    /// `--ric` but the official client is not installed.
    #[error("{0}")]
    RicMissing(String),
}

/// Resolves the task root, writes the bootstrap and builds the command line and environment.
/// Handler errors (a bad name, a missing module or function) are left to the bootstrap, which
/// reports them through `/init/error` with AWS's error types, as the official clients do.
pub(crate) fn prepare(spec: &HandlerSpec, cwd: &Path) -> Result<Prepared, BootstrapError> {
    let (task_root, handler) = match &spec.task_root {
        Some(root) => (absolute(cwd, root), spec.handler.clone()),
        None => match spec.handler.rsplit_once('/') {
            Some((dir, rest)) => (absolute(cwd, Path::new(dir)), rest.to_string()),
            None => (cwd.to_path_buf(), spec.handler.clone()),
        },
    };
    if !task_root.is_dir() {
        return Err(BootstrapError::TaskRoot(task_root.display().to_string()));
    }
    let layers: Vec<PathBuf> = spec.layers.iter().map(|l| absolute(cwd, l)).collect();
    if let Some(bad) = layers.iter().find(|l| !l.is_dir()) {
        return Err(BootstrapError::Layer(bad.display().to_string()));
    }
    let mut env = vec![("AWS_EXECUTION_ENV".to_string(), spec.runtime.execution_env())];
    env.extend(layer_env(spec.runtime, &layers));
    let command = match spec.runtime {
        Runtime::Python(minor) => {
            let python = spec
                .interpreter
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| default_python(minor));
            if spec.ric {
                check_python_ric(&python, &env)?;
                vec![python, "-m".into(), "awslambdaric".into(), handler.clone()]
            } else {
                let script = write_bootstrap("py", PYTHON_BOOTSTRAP)?;
                vec![python, script.display().to_string(), handler.clone()]
            }
        }
        Runtime::Node(_) => {
            let node = spec
                .interpreter
                .as_ref()
                .map_or_else(|| "node".to_string(), |p| p.display().to_string());
            if spec.ric {
                let entry = find_node_ric(&task_root, &layers)?;
                vec![node, entry.display().to_string(), handler.clone()]
            } else {
                let script = write_bootstrap("mjs", NODE_BOOTSTRAP)?;
                vec![node, script.display().to_string(), handler.clone()]
            }
        }
    };
    Ok(Prepared {
        command,
        handler,
        task_root,
        env,
    })
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// `python3.X` when it is on PATH (the runtime asked for), else `python3`.
fn default_python(minor: u32) -> String {
    let exact = format!("python3.{minor}");
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .any(|dir| dir.join(&exact).is_file());
    if on_path {
        exact
    } else {
        "python3".into()
    }
}

/// What `/opt` gives a function on Lambda: `python/` (and its site-packages) on the Python
/// path, `nodejs/node_modules` on the Node path, `bin` on PATH, `lib` for the dynamic loader.
fn layer_env(runtime: Runtime, layers: &[PathBuf]) -> Vec<(String, String)> {
    if layers.is_empty() {
        return Vec::new();
    }
    let join = |dirs: Vec<PathBuf>, existing: &str| {
        let mut all: Vec<PathBuf> = dirs;
        if let Some(old) = std::env::var_os(existing) {
            all.extend(std::env::split_paths(&old));
        }
        std::env::join_paths(all)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut env = Vec::new();
    match runtime {
        Runtime::Python(minor) => {
            let dirs = layers
                .iter()
                .flat_map(|l| {
                    [
                        l.join(format!("python/lib/python3.{minor}/site-packages")),
                        l.join("python"),
                    ]
                })
                .collect();
            env.push(("PYTHONPATH".into(), join(dirs, "PYTHONPATH")));
        }
        Runtime::Node(major) => {
            let dirs = layers
                .iter()
                .flat_map(|l| {
                    [
                        l.join(format!("nodejs/node{major}/node_modules")),
                        l.join("nodejs/node_modules"),
                    ]
                })
                .collect();
            env.push(("NODE_PATH".into(), join(dirs, "NODE_PATH")));
        }
    }
    env.push((
        "PATH".into(),
        join(layers.iter().map(|l| l.join("bin")).collect(), "PATH"),
    ));
    env.push((
        "LD_LIBRARY_PATH".into(),
        join(layers.iter().map(|l| l.join("lib")).collect(), "LD_LIBRARY_PATH"),
    ));
    env
}

/// Writes a bundled bootstrap once per content (the name carries a hash), atomically, so
/// concurrent kinlocal processes share it safely.
fn write_bootstrap(ext: &str, text: &str) -> Result<PathBuf, BootstrapError> {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let dir = std::env::temp_dir().join("kinlocal-bootstrap");
    let path = dir.join(format!("bootstrap-{:016x}.{ext}", h.finish()));
    if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
        return Ok(path);
    }
    let err = |e: std::io::Error| BootstrapError::Write {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let tmp = dir.join(format!(
        ".{}-{}.{ext}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(path)
}

/// `--ric` with Python: `awslambdaric` must import with this interpreter and path.
fn check_python_ric(python: &str, env: &[(String, String)]) -> Result<(), BootstrapError> {
    let out = std::process::Command::new(python)
        .args(["-c", "import awslambdaric"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(_) => Err(BootstrapError::RicMissing(format!(
            "--ric: the official Python runtime client is not installed for {python} (pip install awslambdaric, or choose the interpreter with --python)"
        ))),
        Err(e) => Err(BootstrapError::RicMissing(format!(
            "--ric: cannot run {python}: {e} (choose the interpreter with --python)"
        ))),
    }
}

/// `--ric` with Node: `aws-lambda-ric` in the task root's or a layer's `node_modules`.
fn find_node_ric(task_root: &Path, layers: &[PathBuf]) -> Result<PathBuf, BootstrapError> {
    let mut places = vec![task_root.join("node_modules")];
    places.extend(layers.iter().map(|l| l.join("nodejs/node_modules")));
    places
        .iter()
        .map(|p| p.join("aws-lambda-ric/bin/index.mjs"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            BootstrapError::RicMissing(format!(
                "--ric: aws-lambda-ric is not installed in {} or a --layer's nodejs/node_modules (npm install aws-lambda-ric)",
                task_root.join("node_modules").display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_parse_as_aws_spells_them() {
        assert_eq!(Runtime::parse("python3.12"), Ok(Runtime::Python(12)));
        assert_eq!(Runtime::parse("python3.9"), Ok(Runtime::Python(9)));
        assert_eq!(Runtime::parse("nodejs22.x"), Ok(Runtime::Node(22)));
        for bad in [
            "python3.8",
            "python3.15",
            "python2.7",
            "nodejs21.x",
            "nodejs16.x",
            "node22",
            "java21",
            "",
        ] {
            assert!(Runtime::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Runtime::Node(20).execution_env(), "AWS_Lambda_nodejs20.x");
        assert_eq!(Runtime::Python(13).execution_env(), "AWS_Lambda_python3.13");
    }

    #[test]
    fn the_handler_directory_is_the_task_root_unless_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("src")).expect("mkdir");
        let spec = HandlerSpec {
            handler: "src/app.handler".into(),
            runtime: Runtime::Python(12),
            task_root: None,
            interpreter: Some("/usr/bin/python3".into()),
            ric: false,
            layers: Vec::new(),
        };
        let p = prepare(&spec, dir.path()).expect("prepared");
        assert_eq!(p.task_root, dir.path().join("src"));
        assert_eq!(p.handler, "app.handler");
        assert_eq!(p.command[0], "/usr/bin/python3");
        assert_eq!(p.command[2], "app.handler");
        assert_eq!(
            std::fs::read_to_string(&p.command[1]).expect("bootstrap written"),
            PYTHON_BOOTSTRAP
        );
        let with_root = HandlerSpec {
            task_root: Some(".".into()),
            ..spec
        };
        let p = prepare(&with_root, dir.path()).expect("prepared");
        assert_eq!(p.handler, "src/app.handler");
        assert_eq!(p.task_root, dir.path().join("."));
    }

    #[test]
    fn layers_are_laid_out_like_opt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = HandlerSpec {
            handler: "index.handler".into(),
            runtime: Runtime::Node(22),
            task_root: None,
            interpreter: None,
            ric: false,
            layers: vec!["layer".into()],
        };
        assert!(matches!(
            prepare(&spec, dir.path()),
            Err(BootstrapError::Layer(_))
        ));
        std::fs::create_dir(dir.path().join("layer")).expect("mkdir");
        let p = prepare(&spec, dir.path()).expect("prepared");
        let get = |k: &str| {
            p.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let layer = dir.path().join("layer");
        assert!(get("NODE_PATH").starts_with(&format!(
            "{0}/nodejs/node22/node_modules:{0}/nodejs/node_modules",
            layer.display()
        )));
        assert!(get("PATH").starts_with(&format!("{}/bin", layer.display())));
        assert!(get("LD_LIBRARY_PATH").starts_with(&format!("{}/lib", layer.display())));
        assert_eq!(get("AWS_EXECUTION_ENV"), "AWS_Lambda_nodejs22.x");
        assert_eq!(p.command[0], "node");
    }

    #[test]
    fn a_missing_node_ric_says_how_to_install_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = HandlerSpec {
            handler: "index.handler".into(),
            runtime: Runtime::Node(20),
            task_root: None,
            interpreter: None,
            ric: true,
            layers: Vec::new(),
        };
        let err = prepare(&spec, dir.path()).expect_err("no ric");
        assert!(err.to_string().contains("npm install aws-lambda-ric"), "{err}");
    }
}
