//! The release server as a child process: started on a free port with a database of the test's,
//! killed (SIGKILL) when dropped or when a test says so.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The release binary, or the one `GUIDEPOST_OPS_BINARY` names.
pub fn binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::env::var_os("GUIDEPOST_OPS_BINARY")
        .map_or_else(|| root.join("target/release/guidepost"), PathBuf::from);
    assert!(
        binary.exists(),
        "build the release server first: cargo build --release ({})",
        binary.display()
    );
    binary
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    /// Starts the server on `database` with `args`, and waits until it answers.
    pub fn start(database: &Path, port: u16, args: &[&str]) -> Self {
        Self::start_with_env(database, port, args, &[])
    }

    /// As [`Self::start`], with environment variables.
    pub fn start_with_env(database: &Path, port: u16, args: &[&str], env: &[(&str, &str)]) -> Self {
        let log = database.with_extension(format!("{port}.log"));
        Self::start_logged(database.as_os_str(), log, port, args, env)
    }

    /// Starts the server on `database` (a file or a URL), its log in `log`.
    pub fn start_logged(
        database: &std::ffi::OsStr,
        log: PathBuf,
        port: u16,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(binary())
            .args(["--bind", &format!("127.0.0.1:{port}"), "--database"])
            .arg(database)
            .args(["--bcrypt-cost", "4"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        let server = Self {
            child: Some(child),
            port,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not start: {}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
