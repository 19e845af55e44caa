/* Confining a worker: no_new_privs, the drop from root to a user of its own,
 * and the seccomp allow list of a running worker, grouped by who needs each
 * call. OSIO_SECCOMP=log names the call that a filter refuses. */
#include "hypervisor/sandbox.h"

#include "hypervisor/log.h"
#include "hypervisor/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define OSIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OSIO_ASAN 1
#endif
#endif

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* --- the user ------------------------------------------------------------- */

/* Gives dir and everything below it (symbolic links are not followed nor
 * changed; other file systems are not entered) to uid:gid. */
static int give_tree(int dirfd, uid_t uid, gid_t gid, dev_t dev, unsigned depth)
{
	if (depth > 16)
		return -ELOOP;
	if (fchown(dirfd, uid, gid) < 0)
		return -errno;
	int dup_fd = dup(dirfd);
	if (dup_fd < 0)
		return -errno;
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while (r == 0 && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				r = -errno;
			continue;
		}
		if (S_ISLNK(st.st_mode) || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = -errno;
				continue;
			}
			r = give_tree(sub, uid, gid, dev, depth + 1);
			close(sub);
		} else if (fchownat(dirfd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 &&
			   errno != ENOENT) {
			r = -errno;
		}
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

static bool can_search(const struct stat *st, uid_t uid, gid_t gid)
{
	return (st->st_uid == uid && (st->st_mode & S_IXUSR)) ||
	       (st->st_gid == gid && (st->st_mode & S_IXGRP)) || (st->st_mode & S_IXOTH);
}

/* The user must reach the folder by its path (saving opens STORE/vms/NAME/
 * saved.vmstate): the store's own folders above it get search permission
 * for others (0711: entering, not listing; what they hold stays private to
 * root); a folder above the store must allow it already. */
static int open_way_to(const char *dir, uid_t uid, gid_t gid, const char *name, char *err,
		       size_t errlen)
{
	char path[PATH_MAX], store[PATH_MAX], real_store[PATH_MAX];
	if (!realpath(dir, path)) {
		fail(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	bool have_store =
	    store_path(store, sizeof(store), NULL) == 0 && realpath(store, real_store);
	size_t slen = have_store ? strlen(real_store) : 0;
	for (char *slash; (slash = strrchr(path, '/'));) {
		if (slash == path)
			slash[1] = 0;
		else
			*slash = 0;
		struct stat st;
		if (stat(path, &st) < 0) {
			fail(err, errlen, "%s: %s", path, strerror(errno));
			return -errno;
		}
		if (!can_search(&st, uid, gid)) {
			bool in_store = have_store && !strncmp(path, real_store, slen) &&
					(path[slen] == 0 || path[slen] == '/');
			if (!in_store) {
				fail(err, errlen,
				     "user %s cannot reach the VM's folder %s: %s is private "
				     "(mode %04o); let others enter it (chmod o+x %s) or move the "
				     "store (OSIO_STORE_DIR)",
				     name, dir, path, (unsigned)(st.st_mode & 07777), path);
				return -EACCES;
			}
			if (chmod(path, (st.st_mode & 07777) | S_IXOTH) < 0) {
				fail(err, errlen, "%s: cannot let user %s enter it: %s", path, name,
				     strerror(errno));
				return -errno;
			}
		}
		if (!strcmp(path, "/"))
			break;
	}
	return 0;
}

static int give_vm_dir(const char *dir, uid_t uid, gid_t gid)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int r = fstat(fd, &st) < 0 ? -errno : give_tree(fd, uid, gid, st.st_dev, 0);
	close(fd);
	return r;
}

/* What a process that gave up root must not be able to do: become root
 * again, keep a group or a capability of root. */
static int check_dropped(uid_t uid, gid_t gid, const char *name, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0 ||
	    setgroups(0, NULL) == 0) {
		fail(err, errlen, "after becoming user %s the worker could become root again",
		     name);
		return -EPERM;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != uid ||
	    eu != uid || su != uid || rg != gid || eg != gid || sg != gid ||
	    getgroups(0, NULL) != 0) {
		fail(err, errlen, "after becoming user %s the worker kept another user or group",
		     name);
		return -EPERM;
	}
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &hdr, caps) < 0) {
		fail(err, errlen, "cannot read the worker's capabilities: %s", strerror(errno));
		return -errno;
	}
	for (unsigned i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		if (caps[i].effective || caps[i].permitted || caps[i].inheritable) {
			fail(err, errlen, "after becoming user %s the worker kept capabilities",
			     name);
			return -EPERM;
		}
	}
	return 0;
}

int sandbox_target_user(const struct sandbox_options *opt, uid_t *uid, gid_t *gid, char *err,
			size_t errlen)
{
	static const struct sandbox_options none;
	if (!opt)
		opt = &none;
	const char *name = opt->user ? opt->user : SANDBOX_DEFAULT_USER;
	if (geteuid() != 0 || !*name)
		return 0;
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (!res) {
		if (!opt->user)
			return 0;
		fail(err, errlen,
		     "user %s (the vmconfig's [vm] worker_user) %s: create it with useradd "
		     "--system %s, "
		     "or remove the setting",
		     name, e ? strerror(e) : "does not exist", name);
		return e ? -e : -ENOENT;
	}
	if (pw.pw_uid == 0)
		return 0;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 1;
}

/* As root: becomes the sandbox user (see sandbox.h). Decision on the files
 * the worker creates later (saved state, checkpoints, new disks, the vmconfig
 * written back, its .running claim removed at exit): the VM's folder is given
 * to the user, so that the worker keeps working in it and nowhere else
 * writable by root; root's commands still read and change it. The files the
 * worker holds open (disks outside the folder, the log, sockets, /dev/kvm)
 * stay usable through their descriptors. */
static int become_user(const struct sandbox_options *opt, char *who, size_t wholen, char *err,
		       size_t errlen)
{
	const char *name = opt->user ? opt->user : SANDBOX_DEFAULT_USER;
	uid_t uid;
	gid_t gid;
	snprintf(who, wholen, "%s", geteuid() == 0 ? "user root" : "user unchanged (not root)");
	int r = sandbox_target_user(opt, &uid, &gid, err, errlen);
	if (r <= 0) {
		if (r == 0 && geteuid() == 0 && !opt->user)
			log_info("note: the worker runs as root: create the user %s (useradd "
				 "--system --no-create-home --shell /usr/sbin/nologin %s) for "
				 "workers to run without root's privileges",
				 name, name);
		return r;
	}
	if (opt->vm_dir && (r = give_vm_dir(opt->vm_dir, uid, gid)) < 0) {
		fail(err, errlen, "cannot give the VM's folder %s to user %s: %s", opt->vm_dir,
		     name, strerror(-r));
		return r;
	}
	if (opt->vm_dir && (r = open_way_to(opt->vm_dir, uid, gid, name, err, errlen)) < 0)
		return r;
	/* The C library applies each of these to every thread. */
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		r = -errno;
		fail(err, errlen, "cannot become user %s: %s", name, strerror(errno));
		return r;
	}
	/* Not dumpable from here on (the kernel's rule for a changed user):
	 * another worker of the same user cannot open this one's /proc/PID/mem
	 * or ptrace it. LeakSanitizer makes itself dumpable for its check. */
	r = check_dropped(uid, gid, name, err, errlen);
	if (r < 0)
		return r;
	snprintf(who, wholen, "user %s", name);
	return 0;
}

/* --- OSIO_SECCOMP=log ------------------------------------------------------ */

/* Names of the system calls, resolved before the filter is in (the handler
 * cannot allocate). */
#define SYSCALL_NAMES 512
static char *syscall_names[SYSCALL_NAMES];

static size_t put_str(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at + 1 < size)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t size, unsigned long long v, bool hex)
{
	char tmp[24];
	int n = 0;
	unsigned base = hex ? 16 : 10;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(tmp));
	if (hex)
		at = put_str(buf, at, size, "0x");
	while (n && at + 1 < size)
		buf[at++] = tmp[--n];
	return at;
}

/* Says which call was refused and with what arguments, then lets SIGSYS
 * end the process as the kill mode would (async-signal-safe only). */
static void sigsys_handler(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	char line[256];
	size_t at = put_str(line, 0, sizeof(line), "osio: seccomp: system call ");
	int nr = si->si_syscall;
	const char *name = nr >= 0 && nr < SYSCALL_NAMES ? syscall_names[nr] : NULL;
	at = put_str(line, at, sizeof(line), name ? name : "?");
	at = put_str(line, at, sizeof(line), " (");
	at = put_num(line, at, sizeof(line), (unsigned)nr, false);
	at = put_str(line, at, sizeof(line), ") args");
	static const int regs[] = {REG_RDI, REG_RSI, REG_RDX, REG_R10};
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		at = put_str(line, at, sizeof(line), " ");
		at = put_num(line, at, sizeof(line),
			     (unsigned long long)uc->uc_mcontext.gregs[regs[i]], true);
	}
	at = put_str(line, at, sizeof(line),
		     " is not allowed in the worker's sandbox (hypervisor/sandbox.c): killed\n");
	ssize_t w = write(STDERR_FILENO, line, at);
	(void)w;
	/* The disposition was reset on entry (SA_RESETHAND) and SIGSYS is not
	 * blocked (SA_NODEFER): this ends the process. */
	raise(SIGSYS);
	_exit(128 + SIGSYS);
}

static int log_mode_prepare(char *err, size_t errlen)
{
	uint32_t arch = seccomp_arch_native();
	for (int nr = 0; nr < SYSCALL_NAMES; nr++)
		if (!syscall_names[nr])
			syscall_names[nr] = seccomp_syscall_resolve_num_arch(arch, nr);
	struct sigaction sa = {.sa_sigaction = sigsys_handler,
			       .sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		fail(err, errlen, "cannot catch SIGSYS: %s", strerror(errno));
		return -errno;
	}
	/* Every thread must let it in. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return 0;
}

/* --- the allow list --------------------------------------------------------- */

/* Allowed whatever their arguments. */
static const int allowed[] = {
    /* Everyone, through the C library: memory (mmap and mprotect are
     * below: never executable), locks, time, the thread's own state. */
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(madvise),
    SCMP_SYS(mremap),
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(get_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(nanosleep),
    SCMP_SYS(getrandom),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getrusage),
    SCMP_SYS(uname),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* Signals: the vCPU kick (vp.c, SIGUSR1 sent with pthread_kill), the
     * signalfd of SIGINT/SIGTERM/SIGHUP (worker.c), abort(). */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigsuspend),
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(rt_sigpending),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(signalfd4),
    /* The event loop (evloop.c) and everything it waits on: timers,
     * eventfds (ioeventfd/irqfd of the virtio devices), pipes. */
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2),
    SCMP_SYS(eventfd2),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
    SCMP_SYS(timerfd_gettime),
    SCMP_SYS(pipe2),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(select),
    SCMP_SYS(pselect6),
    /* Data on descriptors: guest I/O to disks (block/ pool threads),
     * serial and console back ends, VNC, the control socket, switches. */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(preadv),
    SCMP_SYS(pwritev),
    SCMP_SYS(preadv2),
    SCMP_SYS(pwritev2),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(dup),
    SCMP_SYS(dup3),
    SCMP_SYS(fcntl),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(fstatfs),
    SCMP_SYS(statfs),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(sync_file_range),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fallocate),
    SCMP_SYS(fadvise64),
    SCMP_SYS(copy_file_range),
    SCMP_SYS(flock),
    /* Files the running VM makes: saved state (savevm), checkpoints and
     * their differencing disks (block/), the vmconfig written back
     * (store_write_atomic), sockets and the .running claim removed at
     * exit (control.c, vnc/, vmstore), switch sockets (net/private.c). */
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(mkdir),
    SCMP_SYS(mkdirat),
    SCMP_SYS(rmdir),
    SCMP_SYS(fchmod),
    SCMP_SYS(fchmodat),
    SCMP_SYS(getdents64),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(getcwd),
    SCMP_SYS(umask),
    SCMP_SYS(inotify_init1),
    SCMP_SYS(inotify_add_watch),
    SCMP_SYS(inotify_rm_watch),
    SCMP_SYS(memfd_create),
    /* Sockets already made (socket() is below): the control socket's
     * clients (with descriptors passed in: the DVD to insert), VNC
     * viewers, the serial console's socket, private switches' peers,
     * libslirp's host connections for NAT. */
    SCMP_SYS(accept),
    SCMP_SYS(accept4),
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(connect),
    SCMP_SYS(shutdown),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(recvmmsg),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
};

/* ioctl requests besides KVM's (all of KVMIO, 0xAE: the VM, its vCPUs and
 * the reset that makes a new VM on /dev/kvm's descriptor). */
static const unsigned long ioctls[] = {
    /* The terminal of the stdio serial back end and of a pty (isatty,
     * tcgetattr, tcsetattr; the terminal is restored at exit). */
    TCGETS,
    TCSETS,
    TCSETSW,
    TCSETSF,
    TIOCGWINSZ,
    /* Descriptors: libslirp and libvncserver. */
    FIONREAD,
    FIONBIO,
    FIOCLEX,
    FIONCLEX,
    /* Copying a checkpoint's saved state as a reflink (checkpoint.c). */
    FICLONE,
    /* Raw disks on block devices (block/file.c, raw.c). */
    BLKGETSIZE64,
    BLKSSZGET,
    BLKDISCARD,
    BLKZEROOUT,
    /* A TAP port attached at run time (net/tap.c, control_net.c); a
     * worker without privileges gets EPERM from the kernel. */
    TUNSETIFF,
    TUNGETIFF,
    TUNSETVNETHDRSZ,
    TUNSETOFFLOAD,
    SIOCGIFINDEX,
    SIOCGIFFLAGS,
};

/* socket(): the address families and types the worker uses. */
static const int socket_families[] = {AF_UNIX, AF_INET, AF_INET6};
static const int socket_types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};

/* prctl(): naming threads (pthread_setname_np), and reading. */
static const int prctls[] = {
    PR_SET_NAME,
    PR_GET_NAME,
    PR_GET_DUMPABLE,
    PR_GET_NO_NEW_PRIVS,
    PR_GET_SECCOMP,
#ifdef OSIO_ASAN
    /* LeakSanitizer's check at exit: its tracer (a clone sharing
     * memory) attaches to the threads. */
    PR_SET_DUMPABLE,
    PR_SET_PDEATHSIG,
    PR_SET_PTRACER,
#endif
};

#define ADD(ctx, action, nr, ...)                                                                  \
	do {                                                                                       \
		int r_ = seccomp_rule_add(ctx, action, nr, __VA_ARGS__);                           \
		if (r_ < 0)                                                                        \
			return r_;                                                                 \
	} while (0)

static int add_rules(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ADD(ctx, SCMP_ACT_ALLOW, allowed[i], 0);

	/* Memory: never executable (the worker runs no generated code). */
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	/* ioctl: KVM's, and the few others listed. */
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xff00, KVMIO << 8));
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)ioctls[i]));

	/* Threads: vCPU threads (new ones at every reset), block pool
	 * threads, the NAT thread, the control and VNC threads. clone3's
	 * flags are out of the filter's reach: it fails with ENOSYS and the
	 * C library falls back to clone, whose flags are checked: a thread
	 * of this process, in its namespaces. */
	const uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	const uint64_t mask = thread | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
			      CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_VFORK;
	ADD(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, SCMP_A0_64(SCMP_CMP_MASKED_EQ, mask, thread));

	/* Signals to this process's own threads only (pthread_kill, raise). */
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)getpid()));

	/* New sockets: Unix (private switches connect to new peers), IPv4
	 * and IPv6 (libslirp's NAT, guest connections to the host), and
	 * netlink's route family (a bridge port attached at run time). No
	 * raw or packet sockets. */
	for (size_t f = 0; f < sizeof(socket_families) / sizeof(socket_families[0]); f++)
		for (size_t t = 0; t < sizeof(socket_types) / sizeof(socket_types[0]); t++)
			ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)socket_families[f]),
			    SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, (uint32_t)socket_types[t]));
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK),
	    SCMP_A2_32(SCMP_CMP_EQ, NETLINK_ROUTE));
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1, SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX));

	for (size_t i = 0; i < sizeof(prctls) / sizeof(prctls[0]); i++)
		ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)prctls[i]));

	/* Reading resource limits (the C library), never setting them. */
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getrlimit), 0);
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, SCMP_A0_32(SCMP_CMP_EQ, 0),
	    SCMP_A2_64(SCMP_CMP_EQ, 0));

#ifdef OSIO_ASAN
	/* The sanitizers' own calls, only in builds with them. LeakSanitizer
	 * at exit: a tracer sharing the process's memory that ptrace-attaches
	 * to every thread, reads their registers and waits for them. A
	 * sanitizer report starting its symbolizer (a fork) gets EPERM: the
	 * report is printed without names rather than not at all. */
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_VM | CLONE_THREAD | CLONE_VFORK, CLONE_VM));
	ADD(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
	    SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_VM | CLONE_THREAD, 0));
	static const long ptraces[] = {PTRACE_ATTACH,	 PTRACE_SEIZE,	  PTRACE_INTERRUPT,
				       PTRACE_DETACH,	 PTRACE_CONT,	  PTRACE_GETREGS,
				       PTRACE_GETREGSET, PTRACE_PEEKUSER, PTRACE_GETFPREGS};
	for (size_t i = 0; i < sizeof(ptraces) / sizeof(ptraces[0]); i++)
		ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 1,
		    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)ptraces[i]));
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getdents), 0);
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 0);
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(waitid), 0);
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getppid), 0);
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)getpid()));
	ADD(ctx, SCMP_ACT_ALLOW, SCMP_SYS(process_vm_readv), 0);
#endif
	return 0;
}

/* Loads the filter on every thread. OFF still loads one that allows all:
 * its TSYNC carries no_new_privs to every thread, which prctl alone sets for
 * the calling thread only. */
static int load_filter(enum sandbox_seccomp mode, char *err, size_t errlen)
{
	uint32_t def = mode == SANDBOX_SECCOMP_OFF   ? SCMP_ACT_ALLOW
		       : mode == SANDBOX_SECCOMP_LOG ? SCMP_ACT_TRAP
						     : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx) {
		fail(err, errlen, "cannot set up the seccomp filter: out of memory");
		return -ENOMEM;
	}
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0 && mode != SANDBOX_SECCOMP_OFF)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		fail(err, errlen, "cannot set up the seccomp filter: %s", strerror(-r));
		goto out;
	}
	if (mode != SANDBOX_SECCOMP_OFF && (r = add_rules(ctx)) < 0) {
		fail(err, errlen, "cannot build the seccomp filter: %s", strerror(-r));
		goto out;
	}
	r = seccomp_load(ctx);
	if (r != 0) {
		/* TSYNC failing reports a thread id. */
		if (r > 0)
			r = -EAGAIN;
		fail(err, errlen, "cannot load the seccomp filter: %s", strerror(-r));
		goto out;
	}
out:
	seccomp_release(ctx);
	return r;
}

static int seccomp_mode(enum sandbox_seccomp def, enum sandbox_seccomp *mode, char *err,
			size_t errlen)
{
	const char *e = getenv("OSIO_SECCOMP");
	*mode = def;
	if (!e || !*e)
		return 0;
	if (!strcmp(e, "0") || !strcmp(e, "off"))
		*mode = SANDBOX_SECCOMP_OFF;
	else if (!strcmp(e, "log"))
		*mode = SANDBOX_SECCOMP_LOG;
	else if (!strcmp(e, "1") || !strcmp(e, "kill"))
		*mode = SANDBOX_SECCOMP_KILL;
	else {
		fail(err, errlen, "OSIO_SECCOMP=%s: use 0 (no filter), log or 1 (the default)", e);
		return -EINVAL;
	}
	return 0;
}

int sandbox_enter(const struct sandbox_options *opt, char *err, size_t errlen)
{
	static const struct sandbox_options none;
	enum sandbox_seccomp mode;
	char who[128];
	if (!opt)
		opt = &none;
	int r = seccomp_mode(opt->seccomp, &mode, err, errlen);
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		fail(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return r;
	}
	r = become_user(opt, who, sizeof(who), err, errlen);
	if (r < 0)
		return r;
	if (mode == SANDBOX_SECCOMP_LOG && (r = log_mode_prepare(err, errlen)) < 0)
		return r;
	r = load_filter(mode, err, errlen);
	if (r < 0)
		return r;
	log_info("sandbox: %s, no new privileges, %s", who,
		 mode == SANDBOX_SECCOMP_OFF   ? "no seccomp filter (OSIO_SECCOMP=0)"
		 : mode == SANDBOX_SECCOMP_LOG ? "seccomp filter (OSIO_SECCOMP=log)"
					       : "seccomp filter");
	return 0;
}
