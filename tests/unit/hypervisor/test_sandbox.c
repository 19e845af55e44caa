/* The worker's sandbox: in forked children, what the filter allows works,
 * what it refuses kills with SIGSYS, the user drop sticks, and a guest
 * program runs through osio with the sandbox on as it does without. */
#include "hypervisor/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#else
#define ASAN 0
#endif

/* A child's way to say what went wrong: its exit status. */
#define CHECK(cond, code)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "child: %s failed (%s)\n", #cond, strerror(errno));        \
			_exit(code);                                                               \
		}                                                                                  \
	} while (0)

typedef void (*child_fn)(void *arg);

/* Runs fn in a forked child once it entered the sandbox with opt; the
 * child's wait status. Its stderr goes to errfd when that is >= 0. */
static int in_child(const struct sandbox_options *opt, void (*before)(void *), child_fn fn,
		    void *arg, int errfd)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[512];
		if (errfd >= 0)
			dup2(errfd, STDERR_FILENO);
		if (before)
			before(arg);
		if (sandbox_enter(opt, err, sizeof(err)) < 0) {
			fprintf(stderr, "child: sandbox_enter: %s\n", err);
			_exit(100);
		}
		fn(arg);
		/* exit, not _exit: under the sanitizers the leak check at exit
		 * runs inside the sandbox too. */
		exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void assert_exited_ok(int st)
{
	if (WIFSIGNALED(st))
		fail_msg("child killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void assert_sigsys(int st, const char *what)
{
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s: the child was not killed by SIGSYS (%s %d)", what,
			 WIFSIGNALED(st) ? "signal" : "exit status",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static const struct sandbox_options stay_root = {.user = ""};

/* --- what a worker does keeps working -------------------------------------- */

struct allowed_ctx {
	int kvm;	 /* /dev/kvm opened before, or -1 */
	pthread_t early; /* a thread from before the sandbox */
	int go[2];	 /* tells it to look at its own state */
	int res[2];	 /* its answer */
};

static void *early_thread(void *arg)
{
	struct allowed_ctx *c = arg;
	char b;
	if (read(c->go[0], &b, 1) != 1)
		return NULL;
	/* TSYNC: the filter and no_new_privs reached this thread too. */
	char ok =
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
	ssize_t w = write(c->res[1], &ok, 1);
	(void)w;
	return NULL;
}

static void *late_thread(void *arg)
{
	*(int *)arg = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	return NULL;
}

static void allowed_before(void *arg)
{
	struct allowed_ctx *c = arg;
	c->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK(pipe(c->go) == 0 && pipe(c->res) == 0, 90);
	CHECK(pthread_create(&c->early, NULL, early_thread, c) == 0, 91);
}

static void allowed_calls(void *arg)
{
	struct allowed_ctx *c = arg;
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, 10);
	CHECK(prctl(PR_SET_NAME, "sbx-test", 0, 0, 0) == 0, 11);

	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, 12);
	/* A terminal query on a descriptor that is not one: ENOTTY. */
	CHECK(!isatty(fd) && errno == ENOTTY, 25);
	close(fd);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int tf = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	CHECK(ep >= 0 && ev >= 0 && tf >= 0, 13);
	struct epoll_event e = {.events = EPOLLIN};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0, 14);
	uint64_t one = 1;
	CHECK(write(ev, &one, 8) == 8 && epoll_wait(ep, &e, 1, 0) == 1, 15);

	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED && mprotect(p, 4096, PROT_READ) == 0 && munmap(p, 1 << 20) == 0, 16);
	struct timespec ts;
	char rnd[16];
	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && getrandom(rnd, 16, 0) == 16, 17);

	int us = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int in = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int in6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(us >= 0 && in >= 0 && (in6 >= 0 || errno == EAFNOSUPPORT), 18);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 || errno == ENOSYS, 19);

	/* A thread made now (clone with thread flags; clone3 is refused
	 * with ENOSYS and the C library falls back). */
	pthread_t t;
	int nnp = -1;
	CHECK(pthread_create(&t, NULL, late_thread, &nnp) == 0 && pthread_join(t, NULL) == 0 &&
		  nnp == 1,
	      20);
	char b = 1, ok = 0;
	CHECK(write(c->go[1], &b, 1) == 1 && read(c->res[0], &ok, 1) == 1 && ok == 1, 21);
	CHECK(pthread_join(c->early, NULL) == 0, 22);

	if (c->kvm >= 0) {
		CHECK(ioctl(c->kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION, 23);
		int vm = ioctl(c->kvm, KVM_CREATE_VM, 0);
		CHECK(vm >= 0, 24);
		close(vm);
	}
	/* A call refused with ENOSYS, not killed. */
	CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS, 26);
}

static void test_allowed_calls(void **state)
{
	struct allowed_ctx c = {.kvm = -1};
	assert_exited_ok(in_child(&stay_root, allowed_before, allowed_calls, &c, -1));
}

/* --- what it refuses kills ---------------------------------------------------- */

static void do_execve(void *arg)
{
	char *argv[] = {"/bin/true", NULL};
	execve("/bin/true", argv, environ);
}

static void do_ptrace(void *arg)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void do_packet_socket(void *arg)
{
	socket(AF_PACKET, SOCK_RAW, 0);
}

static void do_raw_inet_socket(void *arg)
{
	socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static void do_mount(void *arg)
{
	mount("none", "/tmp", "tmpfs", 0, NULL);
}

static void do_bad_ioctl(void *arg)
{
	/* TIOCGPGRP: a harmless request, but not one a worker makes. */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pgrp;
	ioctl(fd, TIOCGPGRP, &pgrp);
}

static void do_exec_memory(void *arg)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void do_setuid(void *arg)
{
	if (setuid(0) == 0)
		_exit(0);
}

static void do_kill_other(void *arg)
{
	kill(1, 0);
}

static void do_unshare(void *arg)
{
	syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */);
}

static void do_fork(void *arg)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	/* Only reached with the sanitizers: their symbolizer's fork gets
	 * EPERM instead. */
	_exit(pid < 0 && errno == EPERM ? 77 : 78);
}

static const struct {
	const char *what;
	child_fn fn;
} refused[] = {
    {"execve", do_execve},
    {"ptrace(PTRACE_TRACEME)", do_ptrace},
    {"socket(AF_PACKET)", do_packet_socket},
    {"socket(AF_INET, SOCK_RAW)", do_raw_inet_socket},
    {"mount", do_mount},
    {"ioctl(TIOCGPGRP)", do_bad_ioctl},
    {"mmap(PROT_EXEC)", do_exec_memory},
    {"setuid", do_setuid},
    {"kill", do_kill_other},
    {"unshare", do_unshare},
};

static void test_refused_calls_kill(void **state)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_sigsys(in_child(&stay_root, NULL, refused[i].fn, NULL, -1), refused[i].what);
	int st = in_child(&stay_root, NULL, do_fork, NULL, -1);
	if (ASAN) {
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 77);
	} else {
		assert_sigsys(st, "fork");
	}
}

/* Without the filter the same calls run (so the test above sees the
 * filter, not the calls failing on their own), and no_new_privs is still
 * set on every thread. */
static void nnp_only(void *arg)
{
	pthread_t t;
	int nnp = -1;
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, 30);
	CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2, 31);
	CHECK(pthread_create(&t, NULL, late_thread, &nnp) == 0 && pthread_join(t, NULL) == 0 &&
		  nnp == 1,
	      32);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pgrp;
	CHECK(ioctl(fd, TIOCGPGRP, &pgrp) < 0 && errno == ENOTTY, 33);
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, 34);
	pid_t pid = fork();
	CHECK(pid >= 0, 35);
	if (pid == 0)
		_exit(0);
	CHECK(waitpid(pid, NULL, 0) == pid, 36);
	do_execve(NULL);
	_exit(37);
}

static void test_filter_off(void **state)
{
	struct sandbox_options off = {.user = "", .seccomp = SANDBOX_SECCOMP_OFF};
	/* /bin/true's exit status: execve ran. */
	assert_exited_ok(in_child(&off, NULL, nnp_only, NULL, -1));
	setenv("OSIO_SECCOMP", "0", 1);
	assert_exited_ok(in_child(&stay_root, NULL, nnp_only, NULL, -1));
	setenv("OSIO_SECCOMP", "bogus", 1);
	int st = in_child(&stay_root, NULL, nnp_only, NULL, -1);
	unsetenv("OSIO_SECCOMP");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 100);
}

/* OSIO_SECCOMP=log: the refused call is named on stderr, then SIGSYS. */
static void test_log_mode(void **state)
{
	char path[] = "/tmp/osio-sbx-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	setenv("OSIO_SECCOMP", "log", 1);
	int st = in_child(&stay_root, NULL, do_bad_ioctl, NULL, fd);
	unsetenv("OSIO_SECCOMP");
	assert_sigsys(st, "ioctl in log mode");
	char buf[1024] = {0};
	assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	close(fd);
	char want[64];
	snprintf(want, sizeof(want), "system call ioctl (%d) args ", SYS_ioctl);
	char req[32];
	snprintf(req, sizeof(req), " 0x%x ", (unsigned)TIOCGPGRP);
	if (!strstr(buf, req))
		fail_msg("log mode wrote '%s', without the request '%s'", buf, req);
	if (!strstr(buf, want))
		fail_msg("log mode wrote '%s', without '%s'", buf, want);
}

/* --- the user drop -------------------------------------------------------------- */

struct user_ctx {
	char name[32];
	uid_t uid;
	gid_t gid;
	char store[64];	   /* OSIO_STORE_DIR, 0700 */
	char vm_dir[128];  /* STORE/vms/vm, given to the user */
	char root_dir[64]; /* root's, 0755: not writable after the drop */
	int root_file;	   /* root's 0600 file opened before: still writable */
};

static void user_before(void *arg)
{
	struct user_ctx *u = arg;
	char p[256];
	snprintf(p, sizeof(p), "%s/secret", u->root_dir);
	u->root_file = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(u->root_file >= 0, 90);
}

static void user_checks(void *arg)
{
	struct user_ctx *u = arg;
	uid_t r, e, s;
	gid_t rg, eg, sg;
	CHECK(getresuid(&r, &e, &s) == 0 && r == u->uid && e == u->uid && s == u->uid, 40);
	CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == u->gid && eg == u->gid && sg == u->gid, 41);
	CHECK(getgroups(0, NULL) == 0, 42);
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, 43);
	/* Root cannot be had again. */
	CHECK(setuid(0) < 0 && errno == EPERM, 44);
	CHECK(setgid(0) < 0 && errno == EPERM, 45);
	/* It writes in the VM's folder, and nowhere root alone may. */
	char p[256];
	snprintf(p, sizeof(p), "%s/saved.vmstate", u->vm_dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0, 46);
	close(fd);
	snprintf(p, sizeof(p), "%s/checkpoints/old", u->vm_dir);
	CHECK(unlink(p) == 0, 47);
	snprintf(p, sizeof(p), "%s/new", u->root_dir);
	CHECK(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 && errno == EACCES, 48);
	snprintf(p, sizeof(p), "%s/secret", u->root_dir);
	CHECK(open(p, O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES, 49);
	/* What it held open stays usable. */
	CHECK(write(u->root_file, "kept", 4) == 4, 50);
}

static bool run_quiet(const char *cmd)
{
	return system(cmd) == 0;
}

static void test_user_drop(void **state)
{
	if (geteuid() != 0 || access("/usr/sbin/useradd", X_OK) != 0) {
		print_message("SKIP: the user drop needs root and useradd\n");
		skip();
	}
	struct user_ctx u = {0};
	snprintf(u.name, sizeof(u.name), "osiosbx%d", (int)getpid());
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "useradd --system --no-create-home --shell /usr/sbin/nologin --user-group %s",
		 u.name);
	/* useradd fails while another one holds /etc/passwd's lock. */
	bool added = false;
	for (int i = 0; i < 10 && !(added = run_quiet(cmd)); i++)
		sleep(1);
	assert_true(added);
	struct passwd *pw = getpwnam(u.name);
	assert_non_null(pw);
	u.uid = pw->pw_uid;
	u.gid = pw->pw_gid;
	uid_t tu = 0;
	gid_t tg = 0;
	char terr[256];
	struct sandbox_options named = {.user = u.name}, root = {.user = ""};
	assert_int_equal(sandbox_target_user(&named, &tu, &tg, terr, sizeof(terr)), 1);
	assert_int_equal(tu, u.uid);
	assert_int_equal(tg, u.gid);
	assert_int_equal(sandbox_target_user(&root, &tu, &tg, terr, sizeof(terr)), 0);

	/* The VM's folder in a store private to root, as osio makes it. */
	strcpy(u.store, "/tmp/osio-sbx-store-XXXXXX");
	strcpy(u.root_dir, "/tmp/osio-sbx-root-XXXXXX");
	assert_non_null(mkdtemp(u.store));
	assert_non_null(mkdtemp(u.root_dir));
	snprintf(u.vm_dir, sizeof(u.vm_dir), "%s/vms", u.store);
	assert_int_equal(mkdir(u.vm_dir, 0700), 0);
	snprintf(u.vm_dir, sizeof(u.vm_dir), "%s/vms/vm", u.store);
	assert_int_equal(mkdir(u.vm_dir, 0700), 0);
	setenv("OSIO_STORE_DIR", u.store, 1);
	assert_int_equal(chmod(u.root_dir, 0755), 0);
	char p[256], q[256];
	snprintf(p, sizeof(p), "%s/checkpoints", u.vm_dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/checkpoints/old", u.vm_dir);
	close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(p, sizeof(p), "%s/disk.vhdx", u.vm_dir);
	close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	/* A link out of the folder is not followed. */
	snprintf(q, sizeof(q), "%s/outside", u.root_dir);
	close(open(q, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(p, sizeof(p), "%s/link", u.vm_dir);
	assert_int_equal(symlink(q, p), 0);

	struct sandbox_options opt = {.user = u.name, .vm_dir = u.vm_dir};
	int st_off, st_kill;
	{
		struct sandbox_options off = opt;
		off.seccomp = SANDBOX_SECCOMP_OFF;
		st_off = in_child(&off, user_before, user_checks, &u, -1);
	}
	st_kill = in_child(&opt, NULL, do_setuid, NULL, -1);
	/* A folder outside the store that the user cannot enter: refused
	 * with the fix named. */
	char outside[256];
	snprintf(outside, sizeof(outside), "%s/private", u.root_dir);
	mkdir(outside, 0700);
	snprintf(p, sizeof(p), "%s/private/vm", u.root_dir);
	mkdir(p, 0700);
	struct sandbox_options unreachable = {.user = u.name, .vm_dir = p};
	char uerr[512] = "";
	int st_unreach;
	{
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			int r = sandbox_enter(&unreachable, uerr, sizeof(uerr));
			ssize_t w = write(fds[1], uerr, strlen(uerr));
			(void)w;
			_exit(r == -EACCES ? 0 : 1);
		}
		close(fds[1]);
		ssize_t n = read(fds[0], uerr, sizeof(uerr) - 1);
		uerr[n > 0 ? n : 0] = 0;
		close(fds[0]);
		assert_int_equal(waitpid(pid, &st_unreach, 0), pid);
	}
	unsetenv("OSIO_STORE_DIR");

	struct stat st;
	snprintf(p, sizeof(p), "%s/disk.vhdx", u.vm_dir);
	bool owned = stat(u.vm_dir, &st) == 0 && st.st_uid == u.uid && stat(p, &st) == 0 &&
		     st.st_uid == u.uid && st.st_gid == u.gid;
	bool outside_kept = stat(q, &st) == 0 && st.st_uid == 0;
	/* The store's folders: entered by others, neither listed nor given. */
	snprintf(p, sizeof(p), "%s/vms", u.store);
	bool store_open = stat(u.store, &st) == 0 && (st.st_mode & 0777) == 0701 &&
			  st.st_uid == 0 && stat(p, &st) == 0 && (st.st_mode & 0777) == 0701;
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s; userdel %s", u.store, u.root_dir, u.name);
	run_quiet(cmd);

	assert_exited_ok(st_off);
	assert_exited_ok(st_unreach);
	if (!strstr(uerr, "chmod o+x") || !strstr(uerr, outside))
		fail_msg("unreachable folder: '%s'", uerr);
	assert_true(store_open);
	assert_sigsys(st_kill, "setuid after the drop");
	assert_true(owned);
	assert_true(outside_kept);
}

static void test_missing_user(void **state)
{
	if (geteuid() != 0)
		skip();
	char err[512];
	struct sandbox_options opt = {.user = "osio-no-such-user-x"};
	uid_t tu;
	gid_t tg;
	assert_int_equal(sandbox_target_user(&opt, &tu, &tg, err, sizeof(err)), -ENOENT);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r = sandbox_enter(&opt, err, sizeof(err));
		_exit(r == -ENOENT && strstr(err, "osio-no-such-user-x") &&
			      strstr(err, "useradd") && getuid() == 0
			  ? 0
			  : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_exited_ok(st);
}

/* --- a guest program through osio run, with and without the sandbox ---------- */

static bool find_build_file(const char *rel, char *out, size_t size)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = 0;
	char *slash = strrchr(self, '/'); /* BUILD/tests/unit_... */
	if (!slash)
		return false;
	*slash = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = 0;
	size_t a = strlen(self), b = strlen(rel);
	if (a + 1 + b + 1 > size)
		return false;
	memcpy(out, self, a);
	out[a] = '/';
	memcpy(out + a + 1, rel, b + 1);
	return access(out, F_OK) == 0;
}

/* Runs osio run on the guest program; its stdout (the guest's serial
 * output) into out, its stderr into err; the exit status. */
static int osio_run(const char *osio, const char *elf, bool sandbox, char *out, size_t outsize,
		    char *err, size_t errsize)
{
	char opath[] = "/tmp/osio-sbx-out-XXXXXX", epath[] = "/tmp/osio-sbx-err-XXXXXX";
	int ofd = mkstemp(opath), efd = mkstemp(epath);
	assert_true(ofd >= 0 && efd >= 0);
	unlink(opath);
	unlink(epath);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, STDIN_FILENO);
		dup2(ofd, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		if (sandbox)
			setenv("OSIO_SANDBOX", "1", 1);
		else
			unsetenv("OSIO_SANDBOX");
		execl(osio, osio, "run", "--memory", "64M", "--on-reboot", "exit", "--timeout",
		      "60s", "--kernel", elf, (char *)NULL);
		_exit(127);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ssize_t n = pread(ofd, out, outsize - 1, 0);
	out[n > 0 ? n : 0] = 0;
	n = pread(efd, err, errsize - 1, 0);
	err[n > 0 ? n : 0] = 0;
	close(ofd);
	close(efd);
	return st;
}

static void test_guest_under_sandbox(void **state)
{
	char osio[4096], elf[4096];
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		print_message("SKIP: no /dev/kvm\n");
		skip();
	}
	if (!find_build_file("osio", osio, sizeof(osio)) ||
	    !find_build_file("tests/guest/debugexit.elf", elf, sizeof(elf))) {
		print_message("SKIP: osio or tests/guest/debugexit.elf is not built\n");
		skip();
	}
	static char out1[8192], err1[8192], out2[8192], err2[8192];
	int st1 = osio_run(osio, elf, false, out1, sizeof(out1), err1, sizeof(err1));
	int st2 = osio_run(osio, elf, true, out2, sizeof(out2), err2, sizeof(err2));
	if (!WIFEXITED(st2))
		fail_msg("osio with the sandbox was killed by signal %d; its stderr:\n%s",
			 WTERMSIG(st2), err2);
	assert_true(WIFEXITED(st1));
	assert_int_equal(WEXITSTATUS(st1), 42);
	assert_int_equal(WEXITSTATUS(st2), 42);
	assert_non_null(strstr(out1, "debugexit: writing 42"));
	assert_string_equal(out1, out2);
	/* The worker did enter it (OSIO_SANDBOX=1 read by worker.c). */
	if (!strstr(err2, "sandbox:"))
		fail_msg("no 'sandbox:' line in osio's stderr with OSIO_SANDBOX=1:\n%s", err2);
	assert_null(strstr(err1, "sandbox:"));
}

int main(void)
{
	unsetenv("OSIO_SECCOMP");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allowed_calls),	cmocka_unit_test(test_refused_calls_kill),
	    cmocka_unit_test(test_filter_off),		cmocka_unit_test(test_log_mode),
	    cmocka_unit_test(test_user_drop),		cmocka_unit_test(test_missing_user),
	    cmocka_unit_test(test_guest_under_sandbox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
