//! Transparent huge pages for the heap, where the kernel gives them on request.
//!
//! A case's files, relations and indexes are large and read at random places. With
//! 4 KiB pages, loading a million-row register costs hundreds of thousands of page
//! faults (a third of the run's time, kernel time) and its lookups miss the TLB; with
//! 2 MiB pages, a few hundred faults. Kernels often give huge pages only to memory that
//! asks for them (`madvise` mode), and glibc's allocator asks when its tunable
//! `glibc.malloc.hugetlb=1` is set, which it reads at start. So on Linux the command
//! line starts itself again with the tunable set (the same program, arguments and
//! standard streams; measured in `benches/README.md`: 10–20% less time at 1 M).
//!
//! It does not when `GLIBC_TUNABLES` is set already (the user's own tuning) or when
//! `PROBITY_HUGE_PAGES` is set (to anything: `PROBITY_HUGE_PAGES=0` turns this off; the
//! second start has it set to `1`). A C library that does not know the tunable ignores
//! it, and if starting again fails the program goes on as it is.

/// The environment variable of glibc's tunables.
const TUNABLES: &str = "GLIBC_TUNABLES";
/// Huge pages for the heap: glibc 2.35 and later.
const HUGE: &str = "glibc.malloc.hugetlb=1";
/// Set on the second start, and by users to turn the second start off.
const MARK: &str = "PROBITY_HUGE_PAGES";

/// Starts this program again with huge pages asked for, unless told not to or done
/// already (see the module's documentation); returns only if it did not.
#[cfg(target_os = "linux")]
pub fn reexec() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(TUNABLES).is_some() || std::env::var_os(MARK).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let Some(arg0) = args.next() else { return };
    // `exec` returns only if the program could not be started again: go on as we are.
    let _failed = std::process::Command::new(exe)
        .arg0(arg0)
        .args(args)
        .env(TUNABLES, HUGE)
        .env(MARK, "1")
        .exec();
}

/// Leaves out of a child process's environment the tunable this module set (a program
/// Probity runs, such as a database's shell, gets the environment Probity was given).
pub fn unset_for(cmd: &mut std::process::Command) {
    let ours = std::env::var_os(MARK).is_some_and(|m| m == "1")
        && std::env::var_os(TUNABLES).is_some_and(|t| t == HUGE);
    if ours {
        cmd.env_remove(TUNABLES).env_remove(MARK);
    }
}
