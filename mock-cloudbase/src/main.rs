//! The standalone stub: `mock-cloudbase --port 9400` prints its base URL, then one line per SMS it "sends"
//! (`SMS to +86 138****0000: 123456`), until Ctrl-C.

use std::net::TcpListener;
use std::process::ExitCode;

use mock_cloudbase::MockCloudbase;

const USAGE: &str = "\
mock-cloudbase: a stub of Tencent CloudBase's auth HTTP API (/auth/v1), for local runs and tests

Usage: mock-cloudbase [--port N] [--fixed-code CODE] [--env-id ID] [--region REGION]

  --port N           listen on 127.0.0.1:N (default: a random free port)
  --fixed-code CODE  send this code in every SMS instead of a random 6-digit one
  --env-id ID        CloudBase environment id (default: mock-env)
  --region REGION    environment region (default: ap-shanghai; SMS login works only there)
  -h, --help         print this help

Prints the base URL on the first line of stdout, then `SMS to <masked phone>: <code>` per SMS sent.
Test controls live under <base URL>/__mock/ (e.g. GET /__mock/sms/last?phone=13800000000).";

/// Command-line options.
#[derive(Debug, Default, PartialEq)]
struct Options {
    port: u16,
    fixed_code: Option<String>,
    env_id: Option<String>,
    region: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Serve(Options),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--port" => {
                let raw = value("--port")?;
                options.port = raw
                    .parse()
                    .map_err(|_| format!("--port: {raw:?} is not a port number"))?;
            }
            "--fixed-code" => options.fixed_code = Some(value("--fixed-code")?),
            "--env-id" => options.env_id = Some(value("--env-id")?),
            "--region" => options.region = Some(value("--region")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Serve(options))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("mock-cloudbase: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", options.port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "mock-cloudbase: cannot listen on 127.0.0.1:{}: {err}",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("mock-cloudbase: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(options, listener))
}

async fn serve(options: Options, listener: TcpListener) -> ExitCode {
    let mut builder = MockCloudbase::builder().listener(listener);
    if let Some(code) = options.fixed_code {
        builder = builder.fixed_code(code);
    }
    if let Some(env_id) = options.env_id {
        builder = builder.env_id(env_id);
    }
    if let Some(region) = options.region {
        builder = builder.region(region);
    }
    let stub = builder.start().await;
    stub.on_sms(|sms| println!("SMS to {}: {}", sms.masked_phone, sms.code));
    println!("{}", stub.uri());
    eprintln!(
        "mock-cloudbase: env {} serving on {}; Ctrl-C to stop",
        stub.env_id(),
        stub.uri()
    );

    shutdown_signal().await;
    eprintln!("mock-cloudbase: stopping");
    drop(stub);
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM (what `kill` and process managers send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
                return;
            }
            Err(err) => {
                eprintln!("mock-cloudbase: cannot watch SIGTERM ({err}); Ctrl-C still works")
            }
        }
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("mock-cloudbase: cannot watch Ctrl-C ({err}); stopping");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn arguments_parse_in_both_spellings() {
        assert_eq!(parse(&[]), Ok(Command::Serve(Options::default())));
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert_eq!(
            parse(&[
                "--port",
                "9400",
                "--fixed-code=123456",
                "--region",
                "ap-guangzhou"
            ]),
            Ok(Command::Serve(Options {
                port: 9400,
                fixed_code: Some("123456".to_owned()),
                env_id: None,
                region: Some("ap-guangzhou".to_owned()),
            }))
        );
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "99999"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--verbose"]).is_err());
    }
}
