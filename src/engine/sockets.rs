//! What a container listens on, read from the host without any tool inside it: the
//! LISTEN sockets of its network namespace in `/proc/<pid>/net/{tcp,tcp6,udp,udp6}` of its
//! main process, and which process holds each (`/proc/<pid>/fd`, root only), so that in a
//! shared namespace (`network_mode: service:vpn`) a port belongs to the container whose
//! process holds it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Tcp6,
    Udp,
    Udp6,
}

impl Proto {
    pub const ALL: [Proto; 4] = [Proto::Tcp, Proto::Tcp6, Proto::Udp, Proto::Udp6];

    pub fn file(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Tcp6 => "tcp6",
            Proto::Udp => "udp",
            Proto::Udp6 => "udp6",
        }
    }

    pub fn is_tcp(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Tcp6)
    }
}

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Socket {
    pub proto: Proto,
    pub address: IpAddr,
    pub port: u16,
    pub inode: u64,
}

impl fmt::Display for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.address {
            IpAddr::V4(a) => write!(f, "{} {a}:{}", self.proto.file(), self.port),
            IpAddr::V6(a) => write!(f, "{} [{a}]:{}", self.proto.file(), self.port),
        }
    }
}

impl Socket {
    /// The addresses a probe inside the container aims at, in order: loopback for a socket
    /// bound to every address. A tcp6 socket on `::` also takes IPv4 (busybox httpd's only
    /// socket), and a container may have no IPv6 on its loopback: 127.0.0.1 first.
    pub fn targets(&self) -> Vec<IpAddr> {
        match self.address {
            IpAddr::V4(a) if a.is_unspecified() => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            IpAddr::V6(a) if a.is_unspecified() => {
                vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]
            }
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => vec![IpAddr::V4(v4)],
                None => vec![IpAddr::V6(a)],
            },
            a => vec![a],
        }
    }
}

/// The sockets a `/proc/net/<proto>` table lists as listening: TCP in state LISTEN (0A),
/// UDP unconnected (07) with no remote address. Lines that do not read are skipped.
pub fn parse(proto: Proto, table: &str) -> Vec<Socket> {
    let mut out = Vec::new();
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(remote), Some(state), Some(inode)) =
            (fields.get(1), fields.get(2), fields.get(3), fields.get(9))
        else {
            continue;
        };
        let listening = match proto.is_tcp() {
            true => *state == "0A",
            false => *state == "07" && remote.split(':').next().is_some_and(|a| a.bytes().all(|b| b == b'0')),
        };
        if !listening {
            continue;
        }
        let (Some((address, port)), Ok(inode)) = (endpoint(local), inode.parse()) else { continue };
        out.push(Socket { proto, address, port, inode });
    }
    out
}

/// `0100007F:1F90` -> 127.0.0.1:8080. The address is in the kernel's byte order: each
/// 32-bit word as the host stores it (little-endian on every platform Docker runs on).
fn endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..address.len() / 8)
        .map(|i| address.get(i * 8..i * 8 + 8).and_then(|w| u32::from_str_radix(w, 16).ok()))
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.swap_bytes().to_be_bytes()).collect();
    let address = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice()).ok()?)),
        _ => return None,
    };
    Some((address, port))
}

/// The listening sockets of the network namespace `pid` is in, read under `proc` (`/proc`).
pub fn listening(proc: &Path, pid: u64) -> Result<Vec<Socket>, String> {
    let mut all = Vec::new();
    for proto in Proto::ALL {
        let path = proc.join(pid.to_string()).join("net").join(proto.file());
        match std::fs::read_to_string(&path) {
            Ok(table) => all.extend(parse(proto, &table)),
            // A kernel without IPv6 has no tcp6 table.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && matches!(proto, Proto::Tcp6 | Proto::Udp6) => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    all.sort();
    all.dedup();
    Ok(all)
}

/// The socket inodes each process holds open (`socket:[12345]` in `/proc/<pid>/fd`);
/// a process whose descriptors cannot be read (not root, or gone) is left out.
pub fn held(proc: &Path, pids: &[u64]) -> BTreeMap<u64, BTreeSet<u64>> {
    let mut out = BTreeMap::new();
    for pid in pids {
        let Ok(entries) = std::fs::read_dir(proc.join(pid.to_string()).join("fd")) else { continue };
        let inodes: BTreeSet<u64> = entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .filter_map(|target| socket_inode(&target.to_string_lossy()))
            .collect();
        out.insert(*pid, inodes);
    }
    out
}

fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// Who holds a socket: the processes (of those asked about) that have it open.
pub fn holders(held: &BTreeMap<u64, BTreeSet<u64>>, inode: u64) -> Vec<u64> {
    held.iter().filter(|(_, inodes)| inodes.contains(&inode)).map(|(pid, _)| *pid).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 40123 1 0000000000000000 100 0 0 10 0
   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 40124 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 40125 1 0000000000000000 20 4 30 10 -1
";

    /// busybox httpd: one socket on `::`, only in tcp6; a v4-mapped listener; ::1.
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51234 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51235 1 0000000000000000 100 0 0 10 0
   2: 00000000000000000000000001000000:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51236 1 0000000000000000 100 0 0 10 0
";

    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 60001 2 0000000000000000 0
  124: 0B00007F:A1B2 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 60002 2 0000000000000000 0
";

    fn shown(sockets: &[Socket]) -> Vec<String> {
        sockets.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn tcp_listeners_are_read_and_connections_left_out() {
        let sockets = parse(Proto::Tcp, TCP);
        assert_eq!(shown(&sockets), ["tcp 0.0.0.0:8080", "tcp 127.0.0.1:6379"]);
        assert_eq!(sockets[0].inode, 40123);
        assert_eq!(sockets[0].targets(), [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }

    #[test]
    fn tcp6_reads_any_v4_mapped_and_loopback() {
        let sockets = parse(Proto::Tcp6, TCP6);
        assert_eq!(shown(&sockets), ["tcp6 [::]:80", "tcp6 [::ffff:127.0.0.1]:8081", "tcp6 [::1]:9090"]);
        // busybox httpd is seen only here; a probe tries IPv4 loopback first, then ::1.
        assert_eq!(sockets[0].targets(), ["127.0.0.1".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]);
        assert_eq!(sockets[1].targets(), ["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(sockets[2].targets(), ["::1".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn udp_counts_only_unconnected_sockets() {
        assert_eq!(shown(&parse(Proto::Udp, UDP)), ["udp 0.0.0.0:53"]);
        assert!(parse(Proto::Udp, "header only\n").is_empty());
        assert!(parse(Proto::Tcp, "h\n   0: garbage\n   1: 0100007F:ZZZZ 00000000:0000 0A 0 0 0 0 0 1\n").is_empty());
    }

    #[test]
    fn tables_and_descriptors_are_read_from_a_proc_tree() {
        let proc = tempfile::tempdir().expect("tempdir");
        let net = proc.path().join("42/net");
        std::fs::create_dir_all(&net).expect("dirs");
        std::fs::write(net.join("tcp"), TCP).expect("tcp");
        std::fs::write(net.join("udp"), UDP).expect("udp");
        // No tcp6 or udp6 tables: a kernel without IPv6.
        let sockets = listening(proc.path(), 42).expect("read");
        assert_eq!(shown(&sockets), ["tcp 0.0.0.0:8080", "tcp 127.0.0.1:6379", "udp 0.0.0.0:53"]);
        assert!(listening(proc.path(), 43).is_err(), "a process that is gone");
        for (pid, inode) in [(42, 40123), (43, 40124)] {
            let fd = proc.path().join(format!("{pid}/fd"));
            std::fs::create_dir_all(&fd).expect("fd");
            std::os::unix::fs::symlink(format!("socket:[{inode}]"), fd.join("3")).expect("link");
            std::os::unix::fs::symlink("/dev/null", fd.join("0")).expect("link");
        }
        let held = held(proc.path(), &[42, 43, 44]);
        assert_eq!(holders(&held, 40123), [42]);
        assert_eq!(holders(&held, 40124), [43]);
        assert!(holders(&held, 60001).is_empty());
    }
}
