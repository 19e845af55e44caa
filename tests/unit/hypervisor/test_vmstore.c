/* The VM store: names, paths and listing; the command lock and the worker's
 * claim between two descriptors and two processes; states from the files
 * (Off, Saved, Starting, Crashed), a stale .running from another boot, a
 * crash by a dead pid and by a real process that died holding the claim;
 * and osio list's view of a running worker through a fake control socket
 * (state, VNC, CPU %), a hung one costing a short timeout. */
#include "hypervisor/vmstore.h"

#include "hypervisor/runtime_dir.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[256], store[300], run[300];

static int setup(void **st)
{
	snprintf(root, sizeof(root), "/tmp/osio-vmstore-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(store, sizeof(store), "%s/store", root);
	snprintf(run, sizeof(run), "%s/run", root);
	assert_int_equal(mkdir(store, 0700), 0);
	assert_int_equal(mkdir(run, 0700), 0);
	setenv("OSIO_STORE_DIR", store, 1);
	setenv("OSIO_RUNTIME_DIR", run, 1);
	char vms[400];
	snprintf(vms, sizeof(vms), "%s/vms", store);
	assert_int_equal(mkdir(vms, 0700), 0);
	return 0;
}

static int teardown(void **st)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static bool exists(const char *name, const char *sub)
{
	char path[4096];
	assert_int_equal(vmstore_path(name, sub, path, sizeof(path)), 0);
	return access(path, F_OK) == 0;
}

/* A VM folder with a vmconfig. */
static void make_vm(const char *name, const char *config)
{
	char path[4096];
	assert_int_equal(vmstore_path(name, NULL, path, sizeof(path)), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(vmstore_vmconfig(name, path, sizeof(path)), 0);
	write_file(path, config ? config : "[vm]\nmemory = 1G\ncpus = 3\n");
}

static void vm_file(const char *name, const char *sub, const char *text)
{
	char path[4096];
	assert_int_equal(vmstore_path(name, sub, path, sizeof(path)), 0);
	write_file(path, text);
}

static void boot_id(char out[64])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	assert_non_null(f);
	assert_non_null(fgets(out, 64, f));
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* A pid that is certainly dead: a child that exited and was reaped. */
static int dead_pid(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return p;
}

static void names(void **st)
{
	char err[256];
	static const char *const good[] = {"a", "vm1", "Dev-Box_2.test", "x_", "9"};
	static const char *const bad[] = {"",	 ".hidden", "-x", "_x", "a/b",
					  "a b", "ü",	    "..", "x\n"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(vmstore_check_name(good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(vmstore_check_name(bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is not a valid VM name"));
	}
	char longest[65];
	memset(longest, 'x', 63);
	longest[63] = '\0';
	assert_int_equal(vmstore_check_name(longest, err, sizeof(err)), 0);
	longest[63] = 'x';
	longest[64] = '\0';
	assert_int_equal(vmstore_check_name(longest, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 63"));
}

static void paths(void **st)
{
	char path[4096], want[4096];

	assert_int_equal(vmstore_path("vm1", NULL, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/vms/vm1", store);
	assert_string_equal(path, want);
	assert_int_equal(vmstore_path("vm1", "saved.vmstate", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/vms/vm1/saved.vmstate", store);
	assert_string_equal(path, want);
	assert_int_equal(vmstore_vmconfig("vm1", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/vms/vm1/vm1.vmconfig", store);
	assert_string_equal(path, want);
	assert_int_equal(vmstore_path("../etc", NULL, path, sizeof(path)), -EINVAL);
	assert_int_equal(vmstore_path("vm1", NULL, path, 10), -ENAMETOOLONG);
	assert_false(vmstore_exists("vm1"));
	make_vm("vm1", NULL);
	assert_true(vmstore_exists("vm1"));
	assert_false(vmstore_exists("../vms/vm1"));
}

static void listing(void **st)
{
	char **v, path[4096];
	unsigned n;

	assert_int_equal(vmstore_list(&v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v[0]);
	vmstore_free_names(v);

	make_vm("zeta", NULL);
	make_vm("alpha", NULL);
	make_vm("Mid", NULL);
	/* A folder without its vmconfig, and one with a bad name: skipped. */
	snprintf(path, sizeof(path), "%s/vms/empty", store);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/vms/.hidden", store);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/vms/.hidden/.hidden.vmconfig", store);
	write_file(path, "[vm]\n");
	assert_int_equal(vmstore_list(&v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "Mid");
	assert_string_equal(v[1], "alpha");
	assert_string_equal(v[2], "zeta");
	assert_null(v[3]);
	vmstore_free_names(v);

	/* No store at all is an empty list. */
	setenv("OSIO_STORE_DIR", "/nonexistent/osio-store", 1);
	assert_int_equal(vmstore_list(&v, &n), 0);
	assert_int_equal(n, 0);
	vmstore_free_names(v);
	setenv("OSIO_STORE_DIR", store, 1);
}

static void lock_two_fds(void **st)
{
	char err[512], want[128];
	int a, b;

	make_vm("vm1", NULL);
	assert_int_equal(vmstore_lock("vm1", &a, err, sizeof(err)), 0);
	/* Another open of the same file conflicts, even in this process. */
	assert_int_equal(vmstore_lock("vm1", &b, err, sizeof(err)), -EBUSY);
	snprintf(want, sizeof(want),
		 "VM 'vm1' is busy: another osio command (pid %d) is working on it; try again "
		 "when it is done",
		 (int)getpid());
	assert_string_equal(err, want);
	vmstore_unlock(a);
	assert_int_equal(vmstore_lock("vm1", &b, err, sizeof(err)), 0);
	vmstore_unlock(b);

	assert_int_equal(vmstore_lock("nosuch", &b, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no VM called 'nosuch'"));
	assert_int_equal(vmstore_lock("a/b", &b, err, sizeof(err)), -EINVAL);
}

static void lock_two_processes(void **st)
{
	char err[512], want[128];
	int go[2], done[2], fd;

	make_vm("vm1", NULL);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char c = 0;
		int cfd;
		alarm(30); /* never outlives a failed test */
		close(go[0]);
		close(done[1]);
		if (vmstore_lock("vm1", &cfd, err, sizeof(err)) < 0)
			_exit(1);
		if (write(go[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		_exit(0); /* the lock goes with the process */
	}
	/* A child that fails closes the pipe: read sees the end. */
	close(go[1]);
	close(done[0]);
	char c;
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(vmstore_lock("vm1", &fd, err, sizeof(err)), -EBUSY);
	snprintf(want, sizeof(want), "(pid %d)", (int)child);
	assert_non_null(strstr(err, want));
	assert_int_equal(write(done[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(vmstore_lock("vm1", &fd, err, sizeof(err)), 0);
	vmstore_unlock(fd);
	close(go[0]);
	close(done[1]);
}

static void claim(void **st)
{
	char err[512], want[128], path[4096], text[256], id[64];
	struct vm_info info;
	int fd, fd2, pid;
	unsigned long long start;

	make_vm("vm1", NULL);
	vm_file("vm1", ".crashed", "1 x 2 3\n");
	assert_int_equal(vmstore_worker_claim("vm1", &fd, err, sizeof(err)), 0);
	/* Starting again ends Crashed. */
	assert_false(exists("vm1", ".crashed"));
	assert_int_equal(vmstore_path("vm1", ".running", path, sizeof(path)), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	char got_id[64];
	assert_int_equal(sscanf(text, "%d %63s %llu", &pid, got_id, &start), 3);
	boot_id(id);
	assert_int_equal(pid, getpid());
	assert_string_equal(got_id, id);
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	assert_true(start <= (unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec);

	assert_int_equal(vmstore_worker_claim("vm1", &fd2, err, sizeof(err)), -EBUSY);
	snprintf(want, sizeof(want), "VM 'vm1' is already running (pid %d)", (int)getpid());
	assert_string_equal(err, want);
	/* The command lock is another lock. */
	assert_int_equal(vmstore_lock("vm1", &fd2, err, sizeof(err)), 0);
	vmstore_unlock(fd2);

	int alive_pid;
	assert_true(vmstore_worker_alive("vm1", &alive_pid));
	assert_int_equal(alive_pid, getpid());
	/* Held, no control socket yet: Starting, with the pid and an uptime. */
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_STARTING);
	assert_int_equal(info.pid, getpid());
	assert_int_equal(info.memory, 1ull << 30);
	assert_int_equal(info.cpus, 3);
	assert_true(exists("vm1", ".running"));

	vmstore_worker_release("vm1", fd);
	assert_false(exists("vm1", ".running"));
	assert_false(vmstore_worker_alive("vm1", &alive_pid));
	assert_int_equal(alive_pid, 0);
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_OFF);
	assert_int_equal(info.pid, 0);
	assert_int_equal(vmstore_worker_claim("nosuch", &fd, err, sizeof(err)), -ENOENT);
}

static void states(void **st)
{
	struct vm_info info;

	assert_int_equal(vmstore_info("nosuch", &info), -ENOENT);
	make_vm("vm1", "[vm]\nname = vm1\n");
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_string_equal(info.name, "vm1");
	assert_int_equal(info.state, VM_OFF);
	/* The vmconfig's defaults. */
	assert_int_equal(info.memory, 512ull << 20);
	assert_int_equal(info.cpus, 1);
	assert_string_equal(info.vnc, "");
	vm_file("vm1", "saved.vmstate", "x");
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_SAVED);
	assert_string_equal(vm_state_name(VM_SAVED), "Saved");
	assert_string_equal(vm_state_name(VM_OFF), "Off");
	assert_string_equal(vm_state_name(VM_CRASHED), "Crashed");
	assert_string_equal(vm_state_name((enum vm_state)99), "Unknown");
	/* A damaged vmconfig still lists, without memory. */
	make_vm("bad", "[vm]\nmemory = lots\n");
	assert_int_equal(vmstore_info("bad", &info), 0);
	assert_int_equal(info.state, VM_OFF);
	assert_int_equal(info.memory, 0);
}

static void stale_other_boot(void **st)
{
	struct vm_info info;
	char sock[4096];

	make_vm("vm1", NULL);
	vm_file("vm1", ".running", "4242 00000000-0000-0000-0000-000000000000 1000\n");
	assert_int_equal(control_socket_path("vm1", sock, sizeof(sock)), 0);
	write_file(sock, "");
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_OFF);
	assert_false(exists("vm1", ".running"));
	assert_false(exists("vm1", ".crashed"));
	assert_int_equal(access(sock, F_OK), -1);
}

static void crashed_dead_pid(void **st)
{
	struct vm_info info;
	char text[256], id[64], sock[4096], log[1024] = "";
	int fd;

	make_vm("vm1", NULL);
	boot_id(id);
	snprintf(text, sizeof(text), "%d %s 1000\n", dead_pid(), id);
	vm_file("vm1", ".running", text);
	for (int i = 1; i <= 8; i++)
		snprintf(log + strlen(log), sizeof(log) - strlen(log), "line %d\n", i);
	vm_file("vm1", "worker.log", log);
	assert_int_equal(control_socket_path("vm1", sock, sizeof(sock)), 0);
	write_file(sock, "");

	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_CRASHED);
	assert_int_equal(info.pid, 0);
	assert_string_equal(info.log_tail, "line 4\nline 5\nline 6\nline 7\nline 8");
	assert_false(exists("vm1", ".running"));
	assert_true(exists("vm1", ".crashed"));
	assert_int_equal(access(sock, F_OK), -1);
	/* It stays Crashed (and the log with it) until started again. */
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_CRASHED);
	/* Even with a saved state: the worker died after it. */
	vm_file("vm1", "saved.vmstate", "x");
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_CRASHED);
	char err[256];
	assert_int_equal(vmstore_worker_claim("vm1", &fd, err, sizeof(err)), 0);
	vmstore_worker_release("vm1", fd);
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_SAVED);
}

/* A real worker that dies holding its claim (the kernel drops the lock). */
static void crashed_real_process(void **st)
{
	struct vm_info info;
	int go[2];

	make_vm("vm1", NULL);
	vm_file("vm1", "worker.log", "osio: error: something \033[2Jwent badly wrong\r\n");
	assert_int_equal(pipe(go), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char err[256];
		int fd;
		alarm(30);
		close(go[0]);
		if (vmstore_worker_claim("vm1", &fd, err, sizeof(err)) < 0)
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	close(go[1]);
	char c;
	ssize_t got = read(go[0], &c, 1);
	assert_int_equal(vmstore_info("vm1", &info), 0);
	int alive_pid = 0;
	bool alive = vmstore_worker_alive("vm1", &alive_pid);
	kill(child, SIGKILL);
	assert_int_equal(got, 1);
	assert_true(alive);
	assert_int_equal(alive_pid, child);
	assert_int_equal(info.state, VM_STARTING);
	assert_int_equal(info.pid, child);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_false(vmstore_worker_alive("vm1", NULL));
	assert_int_equal(vmstore_info("vm1", &info), 0);
	assert_int_equal(info.state, VM_CRASHED);
	/* No escape sequence reaches the user's terminal. */
	assert_string_equal(info.log_tail, "osio: error: something ?[2Jwent badly wrong");
	close(go[0]);
}

/* --- a fake worker's control socket ------------------------------------------- */

struct fake {
	int listen_fd;
	bool hang;	  /* accept, never greet */
	long long cpu_ns; /* stats' cpu-time-ns */
	long long uptime_ns;
	int served;
	pthread_t thread;
};

static void send_line(int fd, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	assert_non_null(s);
	size_t len = strlen(s);
	s[len] = '\n'; /* (json_dumps leaves room for the NUL) */
	assert_int_equal(write(fd, s, len + 1), (ssize_t)len + 1);
	free(s);
	json_decref(o);
}

static void *fake_serve(void *opaque)
{
	struct fake *f = opaque;
	int c = accept(f->listen_fd, NULL, NULL);
	if (c < 0)
		return NULL;
	if (f->hang) {
		struct timespec ts = {1, 500 * 1000 * 1000};
		nanosleep(&ts, NULL);
		close(c);
		return NULL;
	}
	send_line(c, json_pack("{s:{s:s,s:i,s:s,s:[s,s]}}", "osio", "version", "test", "protocol",
			       2, "vm", "vm1", "commands", "query-status", "stats"));
	FILE *in = fdopen(dup(c), "r");
	char line[4096];
	while (in && fgets(line, sizeof(line), in)) {
		json_t *req = json_loads(line, 0, NULL), *ret;
		const char *cmd = json_string_value(json_object_get(req, "execute"));
		if (cmd && strcmp(cmd, "query-status") == 0)
			ret = json_pack("{s:s,s:s,s:i,s:I,s:i,s:s}", "name", "vm1", "state",
					"paused", "cpus", 4, "memory", (json_int_t)(3ull << 30),
					"pid", 1, "vnc", "127.0.0.1:5907");
		else
			ret = json_pack("{s:I,s:I,s:[]}", "uptime-ns", f->uptime_ns, "cpu-time-ns",
					f->cpu_ns, "vcpus");
		send_line(c,
			  json_pack("{s:o,s:O}", "return", ret, "id", json_object_get(req, "id")));
		json_decref(req);
		f->served++;
	}
	if (in)
		fclose(in);
	close(c);
	return NULL;
}

static void fake_start(struct fake *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_int_equal(control_socket_path("vm1", sa.sun_path, sizeof(sa.sun_path)), 0);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->listen_fd >= 0);
	unlink(sa.sun_path);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->listen_fd, 4), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void running_worker(void **st)
{
	struct vm_info info;
	struct fake f = {.cpu_ns = 500000000, .uptime_ns = 2000000000};
	char err[256];
	int fd;

	make_vm("vm1", NULL);
	assert_int_equal(vmstore_worker_claim("vm1", &fd, err, sizeof(err)), 0);
	fake_start(&f);
	assert_int_equal(vmstore_info("vm1", &info), 0);
	fake_stop(&f);
	assert_int_equal(f.served, 2);
	assert_int_equal(info.state, VM_PAUSED);
	assert_int_equal(info.pid, getpid());
	assert_int_equal(info.cpus, 4);
	assert_int_equal(info.memory, 3ull << 30);
	assert_string_equal(info.vnc, "127.0.0.1:5907");
	assert_int_equal(info.uptime_ns, 2000000000ull);
	/* No earlier sample: over the whole run, 0.5 s of 2 s. */
	assert_true(info.cpu_percent > 24.9 && info.cpu_percent < 25.1);

	/* 300 ms later with 150 ms more CPU: about 50% over that interval. */
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	f = (struct fake){.cpu_ns = 650000000, .uptime_ns = 2300000000};
	fake_start(&f);
	assert_int_equal(vmstore_info("vm1", &info), 0);
	fake_stop(&f);
	assert_true(info.cpu_percent > 40 && info.cpu_percent < 51);

	/* Hung: a short timeout, then shown as it last was. */
	f = (struct fake){.hang = true};
	fake_start(&f);
	uint64_t t0 = mono_ms();
	assert_int_equal(vmstore_info("vm1", &info), 0);
	uint64_t took = mono_ms() - t0;
	fake_stop(&f);
	assert_true(took < 1000);
	assert_int_equal(info.state, VM_PAUSED);
	assert_string_equal(info.vnc, "127.0.0.1:5907");
	assert_int_equal(info.cpus, 4);
	vmstore_worker_release("vm1", fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names),
	    cmocka_unit_test_setup_teardown(paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(listing, setup, teardown),
	    cmocka_unit_test_setup_teardown(lock_two_fds, setup, teardown),
	    cmocka_unit_test_setup_teardown(lock_two_processes, setup, teardown),
	    cmocka_unit_test_setup_teardown(claim, setup, teardown),
	    cmocka_unit_test_setup_teardown(states, setup, teardown),
	    cmocka_unit_test_setup_teardown(stale_other_boot, setup, teardown),
	    cmocka_unit_test_setup_teardown(crashed_dead_pid, setup, teardown),
	    cmocka_unit_test_setup_teardown(crashed_real_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(running_worker, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
