//! Programs the tests need besides Rust: found on this machine, or installed the way
//! the platform allows (apt-get as root, or through password-less sudo).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use assure_testdata::{find_chromium, CHROMIUM_HINT};

/// A headless Chromium, installed with apt-get when missing and allowed.
pub fn chromium(install: bool) -> Result<PathBuf, String> {
    if let Some(found) = find_chromium() {
        println!("chromium: {}", found.display());
        return Ok(found);
    }
    if std::env::var_os("ASSURE_CHROMIUM").is_some_and(|p| !p.is_empty()) {
        return Err(format!(
            "headless Chromium: ASSURE_CHROMIUM names no file; {CHROMIUM_HINT}"
        ));
    }
    if install {
        apt_install("chromium")?;
        if let Some(found) = find_chromium().or_else(|| installed_binary("chromium")) {
            println!("chromium: {} (installed with apt-get)", found.display());
            return Ok(found);
        }
    }
    Err(format!("headless Chromium: none on PATH; {CHROMIUM_HINT}"))
}

/// Where a Debian package put its program of the same name, wherever PATH points.
fn installed_binary(package: &str) -> Option<PathBuf> {
    let out = Command::new("dpkg").args(["-L", package]).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .find(|p| p.ends_with(format!("bin/{package}")) && p.is_file())
}

/// python3, which runs the stub-set generators.
pub fn python3(install: bool) -> Result<PathBuf, String> {
    if let Some(found) = on_path("python3") {
        println!("python3: {}", found.display());
        return Ok(found);
    }
    if install {
        apt_install("python3")?;
        if let Some(found) = on_path("python3") {
            println!("python3: {} (installed now)", found.display());
            return Ok(found);
        }
    }
    Err("python3: none on PATH; install it (Debian/Ubuntu: apt-get install python3)".into())
}

pub fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs a Debian package, as root or through `sudo -n`; an error says why not.
fn apt_install(package: &str) -> Result<(), String> {
    let Some(apt) = on_path("apt-get") else {
        return Err(format!(
            "{package}: not installed, and this is not a Debian/Ubuntu machine (no apt-get): install it with the system's package manager"
        ));
    };
    let sudo: Option<PathBuf> = if is_root() {
        None
    } else {
        let sudo = on_path("sudo").filter(|s| {
            Command::new(s)
                .args(["-n", "true"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|st| st.success())
        });
        match sudo {
            Some(s) => Some(s),
            None => {
                return Err(format!(
                    "{package}: not installed, and installing needs root: run `sudo apt-get install {package}`"
                ))
            }
        }
    };
    println!("installing {package} with apt-get");
    let run = |args: &[&str]| -> Result<(), String> {
        let mut cmd = match &sudo {
            Some(s) => {
                let mut c = Command::new(s);
                c.arg("-n").arg(&apt);
                c
            }
            None => Command::new(&apt),
        };
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("{package}: cannot run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{package}: `apt-get {}` failed ({status}): install it by hand",
                args.join(" ")
            ))
        }
    };
    run(&["update", "-qq"])?;
    run(&["install", "-y", "-qq", package])
}
