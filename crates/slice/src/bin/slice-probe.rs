//! A test helper that runs inside a slice: each argument is one attempt
//! (an escape, or a look at its own confinement), and each prints one line,
//! `<attempt> ok <detail>` or `<attempt> err <errno>`, for the escape tests.
//! Not part of the product; it is built with the crate so tests can run it.
#![allow(unsafe_code)]
// A test helper: it must keep going after any failed attempt and report it.
#![allow(clippy::print_stdout, clippy::undocumented_unsafe_blocks)]

use std::ffi::CString;
use std::io::{Read, Write};
use std::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let attempt = args[i].as_str();
        let mut arg = || {
            i += 1;
            args.get(i).cloned().unwrap_or_default()
        };
        let result = match attempt {
            "mount" => check(unsafe {
                libc::mount(
                    c"none".as_ptr(),
                    c"/tmp".as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    std::ptr::null(),
                )
            }),
            "umount" => check(unsafe { libc::umount2(c"/proc".as_ptr(), libc::MNT_DETACH) }),
            "unshare" => check(unsafe { libc::unshare(libc::CLONE_NEWUSER) }),
            "unshare-net" => check(unsafe { libc::unshare(libc::CLONE_NEWNET) }),
            "clone-newuser" => clone_newuser(),
            "setns" => setns(),
            "ptrace" => {
                let pid: libc::pid_t = arg().parse().unwrap_or(1);
                check_long(unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, 0, 0) })
            }
            "signal" => {
                let pid: libc::pid_t = arg().parse().unwrap_or(1);
                check(unsafe { libc::kill(pid, 0) })
            }
            "setuid0" => check_long(unsafe { libc::syscall(libc::SYS_setuid, 0) }),
            "setgid0" => check_long(unsafe { libc::syscall(libc::SYS_setgid, 0) }),
            "syscall" => {
                let name = arg();
                match runink_slice::seccomp::DENIED
                    .iter()
                    .find(|(n, _)| *n == name)
                {
                    Some(&(_, nr)) => check_long(unsafe { libc::syscall(nr, 0, 0, 0, 0, 0, 0) }),
                    None => Err(format!("unknown-syscall {name}")),
                }
            }
            "write" => {
                let path = arg();
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(b"1"))
                    .map(|()| String::new())
                    .map_err(io_errno)
            }
            "read" => {
                let path = arg();
                std::fs::read(&path)
                    .map(|b| format!("{} bytes", b.len()))
                    .map_err(io_errno)
            }
            "loopback-up" => loopback_up(),
            "connect" => TcpStream::connect(arg())
                .map(|_| String::new())
                .map_err(io_errno),
            "fork-bomb" => fork_bomb(),
            "alloc-mib" => alloc(arg().parse().unwrap_or(0)),
            "fds" => Ok(open_fds()),
            "status" => Ok(status()),
            "ids" => Ok(format!(
                "uid={} gid={}",
                unsafe { libc::getuid() },
                unsafe { libc::getgid() }
            )),
            "create" => std::fs::File::create(arg())
                .map(|_| String::new())
                .map_err(io_errno),
            "rootdev" => std::fs::metadata("/")
                .map(|m| std::os::unix::fs::MetadataExt::dev(&m).to_string())
                .map_err(io_errno),
            "netns" => std::fs::read_link("/proc/self/ns/net")
                .map(|link| link.to_string_lossy().into_owned())
                .map_err(io_errno),
            "hostname" => std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .map_err(io_errno),
            "ls" => std::fs::read_dir(arg())
                .map(|d| {
                    let mut names: Vec<String> = d
                        .flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect();
                    names.sort();
                    names.join(",")
                })
                .map_err(io_errno),
            "cat" => {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map(|_| s.trim().to_owned())
                    .map_err(io_errno)
            }
            "write-fd" => {
                let fd: i32 = arg().parse().unwrap_or(-1);
                let text = arg();
                let r = unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) };
                if r < 0 {
                    Err(errno_name())
                } else {
                    Ok(format!("{r}"))
                }
            }
            "env" => Ok(std::env::vars()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")),
            "exit" => std::process::exit(arg().parse().unwrap_or(0)),
            other => Err(format!("unknown-attempt {other}")),
        };
        match result {
            Ok(detail) => println!("{attempt} ok {detail}"),
            Err(e) => println!("{attempt} err {e}"),
        }
        i += 1;
    }
}

/// Tries to bring the loopback interface up (`SIOCSIFFLAGS` with `IFF_UP`).
fn loopback_up() -> Result<String, String> {
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) };
    if sock < 0 {
        return Err(errno_name());
    }
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo") {
        *slot = *byte as libc::c_char;
    }
    let result = if unsafe { libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut request) } < 0 {
        Err(errno_name())
    } else {
        unsafe { request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
        check(unsafe { libc::ioctl(sock, libc::SIOCSIFFLAGS, &request) })
    };
    unsafe { libc::close(sock) };
    result
}

fn errno_name() -> String {
    let e = std::io::Error::last_os_error();
    format!("{} {e}", e.raw_os_error().unwrap_or(0))
}

fn io_errno(e: std::io::Error) -> String {
    format!("{} {e}", e.raw_os_error().unwrap_or(0))
}

fn check(r: libc::c_int) -> Result<String, String> {
    if r < 0 {
        Err(errno_name())
    } else {
        Ok(r.to_string())
    }
}

fn check_long(r: libc::c_long) -> Result<String, String> {
    if r < 0 {
        Err(errno_name())
    } else {
        Ok(r.to_string())
    }
}

fn clone_newuser() -> Result<String, String> {
    let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_long;
    let r = unsafe { libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0) };
    if r == 0 {
        unsafe { libc::_exit(0) };
    }
    if r > 0 {
        unsafe { libc::waitpid(r as libc::pid_t, std::ptr::null_mut(), 0) };
    }
    check_long(r)
}

fn setns() -> Result<String, String> {
    let path = CString::new("/proc/self/ns/mnt").map_err(|e| e.to_string())?;
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno_name());
    }
    let r = check(unsafe { libc::setns(fd, 0) });
    unsafe { libc::close(fd) };
    r
}

/// Forks children that wait, until fork fails; reports how many it got.
fn fork_bomb() -> Result<String, String> {
    let mut children = 0u32;
    loop {
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe { libc::pause() };
            unsafe { libc::_exit(0) };
        }
        if pid < 0 {
            return Err(format!("{} after {children} children", errno_name()));
        }
        children += 1;
        if children >= 100_000 {
            return Ok(format!("{children} children"));
        }
    }
}

/// Allocates and touches `mib` MiB, reporting progress on stdout so that the
/// test sees how far it got before the kernel killed it.
fn alloc(mib: usize) -> Result<String, String> {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for n in 1..=mib {
        blocks.push(vec![1u8; 1 << 20]);
        if n % 16 == 0 {
            println!("alloc-progress {n}");
            let _ = std::io::stdout().flush();
        }
    }
    Ok(format!("{mib} MiB"))
}

/// Every open descriptor, found without opening one (fcntl on each number).
fn open_fds() -> String {
    let open: Vec<String> = (0..4096)
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1)
        .map(|fd| fd.to_string())
        .collect();
    open.join(",")
}

fn status() -> String {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let wanted = [
        "NoNewPrivs",
        "Seccomp",
        "CapInh",
        "CapPrm",
        "CapEff",
        "CapBnd",
        "CapAmb",
        "Uid",
        "Gid",
        "Groups",
    ];
    text.lines()
        .filter(|l| wanted.iter().any(|w| l.starts_with(&format!("{w}:"))))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(";")
}
