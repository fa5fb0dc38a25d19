//! The app's configuration: read once from environment variables at start, or built directly by
//! tests. A bad value stops start-up with a message naming the variable.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// The region where SMS sign-in works, and the default.
pub const SHANGHAI: &str = "ap-shanghai";
/// How long a person waits before asking for another code, unless `SMS_RESEND_SECS` says otherwise.
pub const DEFAULT_SMS_RESEND: Duration = Duration::from_secs(60);
/// CloudBase itself refuses a second SMS to a number within 30 s; waiting less is pointless.
pub const MIN_SMS_RESEND: Duration = Duration::from_secs(30);
/// How long one CloudBase call may take.
pub const DEFAULT_CLOUDBASE_TIMEOUT: Duration = Duration::from_secs(8);
pub const DEFAULT_SESSION_DB: &str = "cloudbase-sessions.db";

/// Which CloudBase the app talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// Start `mock-cloudbase` inside this process (nothing configured).
    Embedded,
    /// A real environment, or any base URL (a standalone stub, a proxy).
    Remote { api_url: Url, env_id: String },
}

/// Where sessions are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionDb {
    /// Lost on restart; for tests.
    Memory,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub backend: Backend,
    pub region: String,
    pub session_db: SessionDb,
    /// The address people reach the app at; its scheme decides the cookie's `Secure` flag and
    /// its origin is the only one allowed to make state-changing calls.
    pub public_url: Option<Url>,
    pub sms_resend: Duration,
    /// How long one CloudBase call may take before the person is told it is unreachable.
    pub cloudbase_timeout: Duration,
    /// Serve `GET /__bench/ceiling` (a bare handler outside every layer) for the benchmark's
    /// ceiling figure; `BENCH_CEILING=1`.
    pub bench_ceiling: bool,
    /// The app runs behind one reverse proxy that appends the client's address to
    /// `X-Forwarded-For`; the per-address SMS limit then reads that header's last entry instead
    /// of the connection's peer (which would be the proxy). `TRUST_PROXY=1`.
    pub trust_proxy: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl Config {
    /// A configuration for tests and tools: the given backend, sessions in memory, defaults
    /// elsewhere.
    pub fn for_backend(backend: Backend) -> Self {
        Self {
            backend,
            region: SHANGHAI.to_owned(),
            session_db: SessionDb::Memory,
            public_url: None,
            sms_resend: DEFAULT_SMS_RESEND,
            cloudbase_timeout: DEFAULT_CLOUDBASE_TIMEOUT,
            bench_ceiling: false,
            trust_proxy: false,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let region = match lookup("CLOUDBASE_REGION") {
            Some(region) if is_region(&region) => region,
            Some(region) => {
                return Err(ConfigError {
                    var: "CLOUDBASE_REGION",
                    problem: format!("{region:?} is not a region name such as ap-shanghai"),
                })
            }
            None => SHANGHAI.to_owned(),
        };
        let env_id = match lookup("CLOUDBASE_ENV_ID") {
            Some(id) if is_env_id(&id) => Some(id),
            Some(id) => {
                return Err(ConfigError {
                    var: "CLOUDBASE_ENV_ID",
                    problem: format!(
                        "{id:?} is not an environment id (letters, digits and dashes)"
                    ),
                })
            }
            None => None,
        };
        let api_url = lookup("CLOUDBASE_API_URL")
            .map(|raw| parse_http_url("CLOUDBASE_API_URL", &raw))
            .transpose()?;
        let backend = match (api_url, env_id) {
            (Some(api_url), env_id) => Backend::Remote {
                api_url,
                env_id: env_id.unwrap_or_else(|| "mock-env".to_owned()),
            },
            (None, Some(env_id)) => {
                let url = format!("https://{env_id}.{region}.tcb-api.tencentcloudapi.com");
                Backend::Remote {
                    api_url: parse_http_url("CLOUDBASE_ENV_ID", &url)?,
                    env_id,
                }
            }
            (None, None) => Backend::Embedded,
        };
        let session_db = match lookup("SESSION_DB") {
            Some(path) if path == ":memory:" => SessionDb::Memory,
            Some(path) => SessionDb::File(PathBuf::from(path)),
            None => SessionDb::File(PathBuf::from(DEFAULT_SESSION_DB)),
        };
        if let SessionDb::File(path) = &session_db {
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => std::path::Path::new("."),
            };
            if !folder.is_dir() {
                return Err(ConfigError {
                    var: "SESSION_DB",
                    problem: format!("the folder {} does not exist", folder.display()),
                });
            }
        }
        let public_url = lookup("PUBLIC_URL")
            .map(|raw| parse_http_url("PUBLIC_URL", &raw))
            .transpose()?;
        if let Some(url) = &public_url {
            if url.path() != "/" || url.query().is_some() {
                return Err(ConfigError {
                    var: "PUBLIC_URL",
                    problem: format!(
                        "{url} must be an origin only (scheme, host, port): the app is served at /"
                    ),
                });
            }
        }
        let sms_resend = match lookup("SMS_RESEND_SECS") {
            None => DEFAULT_SMS_RESEND,
            Some(raw) => match raw.parse::<u64>() {
                Ok(secs) if secs >= MIN_SMS_RESEND.as_secs() && secs <= 3600 => {
                    Duration::from_secs(secs)
                }
                _ => {
                    return Err(ConfigError {
                        var: "SMS_RESEND_SECS",
                        problem: format!("{raw:?} is not a number of seconds from 30 to 3600"),
                    })
                }
            },
        };
        Ok(Self {
            backend,
            region,
            session_db,
            public_url,
            sms_resend,
            cloudbase_timeout: DEFAULT_CLOUDBASE_TIMEOUT,
            bench_ceiling: parse_switch("BENCH_CEILING", lookup("BENCH_CEILING"))?,
            trust_proxy: parse_switch("TRUST_PROXY", lookup("TRUST_PROXY"))?,
        })
    }

    /// Cookies are `Secure` whenever people reach the app over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
    }

    /// The origin allowed to make state-changing calls, when one is configured.
    pub fn public_origin(&self) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|url| url.origin().ascii_serialization())
    }

    pub fn sms_available(&self) -> bool {
        self.region == SHANGHAI
    }
}

/// An on/off variable: unset, empty, `0`, `false`, `no` or `off` is off; `1`, `true`, `yes` or
/// `on` is on; anything else is refused rather than quietly read as off.
fn parse_switch(var: &'static str, raw: Option<String>) -> Result<bool, ConfigError> {
    let Some(raw) = raw else {
        return Ok(false);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(ConfigError {
            var,
            problem: format!(
                "{raw:?} is neither on (1, true, yes, on) nor off (0, false, no, off)"
            ),
        }),
    }
}

fn is_region(s: &str) -> bool {
    let mut parts = s.split('-');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

fn is_env_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn parse_http_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim()).map_err(|err| ConfigError {
        var,
        problem: format!("{raw:?} is not a URL ({err})"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError {
            var,
            problem: format!("{raw:?} must be an http or https URL"),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn nothing_configured_means_the_embedded_stub() {
        let c = config(&[]).expect("valid");
        assert_eq!(c.backend, Backend::Embedded);
        assert_eq!(c.region, SHANGHAI);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn an_env_id_points_at_the_real_shanghai_host() {
        let c = config(&[("CLOUDBASE_ENV_ID", "prod-1a2b")]).expect("valid");
        let Backend::Remote { api_url, env_id } = c.backend else {
            panic!("remote expected")
        };
        assert_eq!(env_id, "prod-1a2b");
        assert_eq!(
            api_url.as_str(),
            "https://prod-1a2b.ap-shanghai.tcb-api.tencentcloudapi.com/"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("CLOUDBASE_REGION", "Shanghai"),
            ("CLOUDBASE_ENV_ID", "bad id!"),
            ("CLOUDBASE_API_URL", "ftp://x"),
            ("PUBLIC_URL", "not a url"),
            ("SMS_RESEND_SECS", "5"),
            ("SESSION_DB", "/no/such/folder/sessions.db"),
            ("PUBLIC_URL", "https://x.example/app"),
            ("TRUST_PROXY", "maybe"),
            ("BENCH_CEILING", "2"),
        ] {
            let err = config(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
        }
    }

    #[test]
    fn switches_read_the_usual_spellings_of_on_and_off() {
        for (value, on) in [("1", true), ("yes", true), ("TRUE", true), ("on", true)]
            .into_iter()
            .chain([("0", false), ("no", false), ("false", false), ("", false)])
        {
            let c = config(&[("TRUST_PROXY", value)]).expect(value);
            assert_eq!(c.trust_proxy, on, "{value:?}");
        }
        assert!(!config(&[]).expect("valid").trust_proxy);
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let c = config(&[("PUBLIC_URL", "https://login.example.com/")]).expect("valid");
        assert!(c.secure_cookies());
        assert_eq!(
            c.public_origin().as_deref(),
            Some("https://login.example.com")
        );
    }
}
