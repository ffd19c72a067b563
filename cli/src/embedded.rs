//! The embedded defaults of `quickmart up`: when nothing answers at the configured PostgreSQL or Redis, start a
//! private server under `.quickmart/` from the installed packages, or (Redis) fall back to an in-process cache.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// Servers this process started, stopped again when it exits.
#[derive(Default)]
pub struct EmbeddedServers {
    postgres: Option<PrivatePostgres>,
    redis: Option<PrivateRedis>,
}

struct PrivateRedis {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start(&mut self) -> anyhow::Result<()> {
        let child = Command::new(&self.binary)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting redis-server")?;
        self.child = Some(child);
        for _ in 0..50 {
            if answers(&format!("127.0.0.1:{}", self.port)) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "redis-server did not start listening on 127.0.0.1:{}",
            self.port
        )
    }
}

struct PrivatePostgres {
    pg_ctl: PathBuf,
    data_dir: PathBuf,
    as_postgres_user: bool,
    /// `pg_ctl start`'s server options (port, socket folder), for a restart on the same port.
    options: String,
    log: PathBuf,
}

impl PrivatePostgres {
    async fn start(&self) -> anyhow::Result<()> {
        let status = postgres_command(&self.pg_ctl, self.as_postgres_user)
            .args(["start", "-w", "-t", "30", "-o", &self.options, "-l"])
            .arg(&self.log)
            .arg("-D")
            .arg(&self.data_dir)
            .stdout(Stdio::null())
            .status()
            .await?;
        if !status.success() {
            bail!(
                "the private PostgreSQL did not start; see {}",
                self.log.display()
            );
        }
        Ok(())
    }
}

impl EmbeddedServers {
    /// Stops what was started.
    pub async fn stop(mut self) {
        if let Some(postgres) = self.postgres.take() {
            let _ = postgres_command(&postgres.pg_ctl, postgres.as_postgres_user)
                .args(["stop", "-m", "fast", "-D"])
                .arg(&postgres.data_dir)
                .stdout(Stdio::null())
                .status()
                .await;
        }
        if let Some(mut child) = self.redis.take().and_then(|redis| redis.child) {
            let _ = child.kill().await;
        }
    }

    /// Starts a private PostgreSQL cluster in `state_dir/postgres` on a free port; returns its server URL.
    pub async fn start_postgres(&mut self, state_dir: &Path) -> anyhow::Result<String> {
        let bin = postgres_bin_dir().context(
            "PostgreSQL is neither running nor installed: start it, set the *_DATABASE_URL variables, or install it \
             (apt-get install postgresql)",
        )?;
        let root = absolute(&state_dir.join("postgres"))?;
        let data_dir = root.join("data");
        let as_postgres_user = running_as_root();
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        if as_postgres_user {
            // initdb and pg_ctl refuse to run as root: the cluster belongs to the postgres system user.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&root)
                .status()
                .await?;
            if !status.success() {
                bail!("could not hand {} to the postgres user", root.display());
            }
        }
        if !data_dir.join("PG_VERSION").exists() {
            println!(
                "Creating a private PostgreSQL cluster in {}",
                data_dir.display()
            );
            let status = postgres_command(&bin.join("initdb"), as_postgres_user)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"])
                .arg(&data_dir)
                .stdout(Stdio::null())
                .status()
                .await?;
            if !status.success() {
                bail!("initdb failed for {}", data_dir.display());
            }
        }
        let port = free_port()?;
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {}",
            root.display()
        );
        let postgres = PrivatePostgres {
            pg_ctl: bin.join("pg_ctl"),
            data_dir,
            as_postgres_user,
            options,
            log: root.join("postgres.log"),
        };
        postgres.start().await?;
        self.postgres = Some(postgres);
        Ok(format!("postgres://postgres@127.0.0.1:{port}"))
    }

    /// Stops the private PostgreSQL at once (as a crash would), keeping its data: fault tests use it.
    pub async fn pause_postgres(&self) -> anyhow::Result<()> {
        let postgres = self
            .postgres
            .as_ref()
            .context("no private PostgreSQL runs")?;
        let status = postgres_command(&postgres.pg_ctl, postgres.as_postgres_user)
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(&postgres.data_dir)
            .stdout(Stdio::null())
            .status()
            .await?;
        if !status.success() {
            bail!("the private PostgreSQL did not stop");
        }
        Ok(())
    }

    /// Starts the private PostgreSQL again on the same port after [`Self::pause_postgres`].
    pub async fn resume_postgres(&self) -> anyhow::Result<()> {
        self.postgres
            .as_ref()
            .context("no private PostgreSQL runs")?
            .start()
            .await
    }

    /// Starts a private `redis-server` on a free port when one is installed; returns its URL.
    pub async fn start_redis(&mut self) -> anyhow::Result<Option<String>> {
        let Some(binary) = which("redis-server") else {
            return Ok(None);
        };
        let mut redis = PrivateRedis {
            binary,
            port: free_port()?,
            child: None,
        };
        redis.start().await?;
        let url = format!("redis://127.0.0.1:{}", redis.port);
        self.redis = Some(redis);
        Ok(Some(url))
    }

    /// Stops the private Redis at once (it keeps nothing): fault tests use it.
    pub async fn pause_redis(&mut self) -> anyhow::Result<()> {
        let redis = self.redis.as_mut().context("no private Redis runs")?;
        if let Some(mut child) = redis.child.take() {
            child.kill().await.context("stopping redis-server")?;
        }
        Ok(())
    }

    /// Starts the private Redis again, empty, on the same port after [`Self::pause_redis`].
    pub async fn resume_redis(&mut self) -> anyhow::Result<()> {
        self.redis
            .as_mut()
            .context("no private Redis runs")?
            .start()
            .await
    }
}

/// Whether something accepts TCP connections at `host:port`.
pub fn answers(host_port: &str) -> bool {
    use std::net::ToSocketAddrs;
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr: SocketAddr| {
            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
        })
}

fn postgres_command(binary: &Path, as_postgres_user: bool) -> Command {
    if as_postgres_user {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(binary);
        command
    } else {
        Command::new(binary)
    }
}

fn postgres_bin_dir() -> Option<PathBuf> {
    if let Some(initdb) = which("initdb") {
        return initdb.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    versions.pop()
}

fn which(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(binary))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|candidate| candidate.is_file())
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}
