//! The engine's command-line client, running for the whole audit.

use super::*;

/// A run's folder, schema, and the engine's client, running for the whole audit: scripts
/// are written to its input and each ends by writing a marker file, so the facts are
/// loaded once (DuckDB keeps them in memory unless `--connect` names a file).
pub(super) struct Session {
    pub(super) dialect: Dialect,
    dir: PathBuf,
    schema: String,
    runs: usize,
    pub(super) next_file: usize,
    child: std::process::Child,
    input: Option<std::process::ChildStdin>,
    /// Set when the engine failed: the folder is kept for the script the error names.
    keep: bool,
}

impl Session {
    pub(super) fn open(eng: &SqlEngine) -> Result<Session, Box<Diagnostic>> {
        let (var, default) = match eng.dialect {
            Dialect::Postgres => ("PROBITY_PSQL", "psql"),
            _ => ("PROBITY_DUCKDB", "duckdb"),
        };
        let program = eng
            .client
            .clone()
            .or_else(|| std::env::var_os(var).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(default));
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_nanos());
        let tag = format!("{}_{:x}", std::process::id(), stamp & 0xffff_ffff_ffff);
        let dir = std::env::temp_dir().join(format!("probity-sql-{tag}"));
        let io = |what: &Path, e: std::io::Error| {
            Box::new(engine_error(
                format!("cannot write {}: {e}", what.display()),
                "check that the temporary folder ($TMPDIR) is writable and has room",
            ))
        };
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let mut cmd = Command::new(&program);
        match eng.dialect {
            Dialect::Postgres => {
                cmd.args(["-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-d"])
                    .arg(eng.connect.as_deref().unwrap_or_default())
                    .args(["-f", "-"]);
            }
            _ => {
                let init = dir.join("init.sql");
                std::fs::write(&init, "").map_err(|e| io(&init, e))?;
                cmd.arg("-bail")
                    .arg("-init")
                    .arg(&init)
                    .arg(eng.connect.as_deref().unwrap_or(":memory:"));
            }
        }
        let log = |name: &str| {
            let path = dir.join(name);
            std::fs::File::create(&path).map_err(|e| io(&path, e))
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(log("stdout.log")?)
            .stderr(log("stderr.log")?)
            .spawn()
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                let (var, pkg) = match eng.dialect {
                    Dialect::Postgres => ("PROBITY_PSQL", "Debian's `postgresql-client`"),
                    _ => ("PROBITY_DUCKDB", "`pip install duckdb-cli`"),
                };
                Box::new(engine_error(
                    format!(
                        "cannot start the {} client `{}`: {e}",
                        eng.dialect.title(),
                        program.display()
                    ),
                    format!("install it ({pkg}), or name it with `--client PATH` or ${var}"),
                ))
            })?;
        let input = child.stdin.take();
        Ok(Session {
            dialect: eng.dialect,
            dir,
            schema: format!("probity_{tag}"),
            runs: 0,
            next_file: 0,
            child,
            input,
            keep: false,
        })
    }

    pub(super) fn file(&mut self, name: &str) -> PathBuf {
        self.next_file += 1;
        self.dir.join(name)
    }

    /// A path as an SQL string literal.
    fn quoted(path: &Path) -> String {
        format!("'{}'", path.to_string_lossy().replace('\'', "''"))
    }

    /// The statement loading a relation's CSV into its table.
    pub(super) fn load(&self, p: &Program, r: RelId, path: &Path) -> String {
        let d = self.dialect;
        let rel = p.rel(r);
        let mut cols = vec![d.ident("_fact")];
        for i in 0..rel.fields.len() {
            cols.extend(
                crate::sql::schema::columns(rel, i)
                    .iter()
                    .map(|c| d.ident(c)),
            );
        }
        let table = format!("{} ({})", d.ident(&rel.name), cols.join(", "));
        match d {
            Dialect::Postgres => format!(
                "\\copy {table} FROM {} WITH (FORMAT csv, NULL '\\N')\n",
                Self::quoted(path)
            ),
            _ => format!(
                "COPY {table} FROM {} (FORMAT csv, HEADER false, AUTO_DETECT false, DELIM ',', QUOTE '\"', ESCAPE '\"', NULL '\\N', ALLOW_QUOTED_NULLS false);\n",
                Self::quoted(path)
            ),
        }
    }

    /// The statements writing a query's rows to a CSV file (every non-null cell quoted).
    pub(super) fn output(&self, sql: &str, path: &Path, n: usize) -> String {
        match self.dialect {
            Dialect::Postgres => {
                let view = format!("probity_out_{}_{n}", self.runs);
                format!(
                    "CREATE TEMP VIEW {view} AS\n{sql};\n\\copy (SELECT * FROM {view}) TO {} WITH (FORMAT csv, HEADER, FORCE_QUOTE *)\n",
                    Self::quoted(path)
                )
            }
            _ => format!(
                "COPY (\n{sql}\n) TO {} (FORMAT csv, HEADER, FORCE_QUOTE *);\n",
                Self::quoted(path)
            ),
        }
    }

    /// Runs a script in the run's schema (created by the first) and waits for it.
    pub(super) fn run(&mut self, body: &str) -> Result<(), Box<Diagnostic>> {
        let d = self.dialect;
        let schema = d.ident(&self.schema);
        let mut script = String::new();
        if self.runs == 0 {
            if d == Dialect::Postgres {
                script.push_str("SET client_min_messages = warning;\nSET TIME ZONE 'UTC';\n");
            }
            let _ = writeln!(script, "CREATE SCHEMA {schema};");
            match d {
                Dialect::Postgres => {
                    let _ = writeln!(script, "SET search_path TO {schema};");
                }
                _ => {
                    let _ = writeln!(script, "SET search_path = {};", d.text(&self.schema));
                }
            }
        }
        script.push_str(body);
        self.runs += 1;
        let done = self.dir.join(format!("done_{}.csv", self.runs));
        let marker = match d {
            Dialect::Postgres => format!(
                "\\copy (SELECT 42) TO {} WITH (FORMAT csv)\n",
                Self::quoted(&done)
            ),
            _ => format!(
                "COPY (SELECT 42) TO {} (FORMAT csv, HEADER false);\n",
                Self::quoted(&done)
            ),
        };
        let path = self.dir.join(format!("script_{}.sql", self.runs));
        // A copy of what was sent, for the error that names it.
        let _ = std::fs::write(&path, &script);
        let sent = self.send(&script).and_then(|()| self.send(&marker));
        let result = self.wait(&done, &path, &script, sent.is_err());
        self.keep |= result.is_err();
        result
    }

    fn send(&mut self, text: &str) -> std::io::Result<()> {
        use std::io::Write;
        match &mut self.input {
            Some(i) => i.write_all(text.as_bytes()).and_then(|()| i.flush()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        }
    }

    /// Waits until the marker `done` is written, or the client stops (an error).
    fn wait(
        &mut self,
        done: &Path,
        path: &Path,
        script: &str,
        broken: bool,
    ) -> Result<(), Box<Diagnostic>> {
        let mut pause = std::time::Duration::from_millis(1);
        loop {
            if !broken && std::fs::read(done).is_ok_and(|b| b.starts_with(b"42")) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(&status.to_string(), path, script));
            }
            if broken {
                // The client stopped reading: it is stopping; wait for it.
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(self.failure(&status, path, script));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(50));
        }
    }

    fn failure(&self, status: &str, path: &Path, script: &str) -> Box<Diagnostic> {
        let err = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        Box::new(engine_error(
            format!(
                "{} failed ({status}): {}",
                self.dialect.title(),
                first.trim()
            ),
            format!(
                "the script it ran is {} ({} lines); check --connect and the server, or run `probity audit` without `--engine`",
                path.display(),
                script.lines().count()
            ),
        ))
    }

    /// Drops the run's schema, ends the client and removes the folder (if the engine
    /// failed, its scripts stay, for the one the error names).
    pub(super) fn close(mut self) {
        if self.runs > 0 && !self.keep {
            let drop = format!(
                "DROP SCHEMA IF EXISTS {} CASCADE;\n",
                self.dialect.ident(&self.schema)
            );
            let _ = self.send(&drop);
        }
        // End of input ends the client.
        self.input = None;
        let _ = self.child.wait();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
            return;
        }
        // The scripts stay; the facts and rows (as large as the case) do not.
        for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if e.path().extension().is_some_and(|x| x == "csv") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
