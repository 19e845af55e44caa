/* The private switch in system mode (devices/net/private_dir.c): with a
 * runtime folder of a group (2770, as /run/osio) the switch's folders are
 * the group's (2770) and its sockets 0660; what a member could plant there
 * (a FIFO, a symlink, a socket open to others or of another group) is never
 * opened or connected to and is logged once; a folder that is not the
 * group's is refused; the per-user mode keeps its strict check. */
#include "devices/net/net.h"
#include "tests/devices/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <unistd.h>

#define ETHERTYPE 0x88b5

struct tport {
	struct net_port *p;
	uint8_t mac[NET_MAC_LEN];
	unsigned n;
};

static int tport_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov,
			 unsigned iovcnt, size_t len)
{
	struct tport *t = opaque;
	(void)hdr, (void)iov, (void)iovcnt, (void)len;
	t->n++;
	return 0;
}

static const struct net_adapter_ops tport_ops = {.receive = tport_receive};

static char top[256];	  /* the test's folder */
static char rundir[300];  /* the runtime folder: 2770, of our group */
static char errpath[300]; /* stderr while a test looks at the log */

static int tport_try(struct harness *h, struct tport *t, const char *id, unsigned macbyte,
		     const char *sw)
{
	char args[256], mac[18];
	memset(t, 0, sizeof(*t));
	uint8_t m[NET_MAC_LEN] = {0x52, 0x4f, 0x53, 0x00, 0x01, (uint8_t)macbyte};
	memcpy(t->mac, m, sizeof(m));
	net_mac_format(m, mac);
	snprintf(args, sizeof(args), "mac=%s,switch=private,switch_name=%s", mac, sw);
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, args), 0);
	return net_port_create(&h->m, id, &a, &tport_ops, t, &t->p);
}

static void tport_send(struct tport *t)
{
	uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	memcpy(f + 6, t->mac, NET_MAC_LEN);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	struct iovec iov = {f, sizeof(f)};
	assert_int_equal(net_port_send(t->p, NULL, &iov, 1), 0);
}

static bool got_one(void *ctx)
{
	return ((struct tport *)ctx)->n > 0;
}

static struct harness *new_machine(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_init(h, 1 << 20);
	return h;
}

static void free_machine(struct harness *h)
{
	harness_fini(h);
	free(h);
}

/* stderr to a file (the log), and back; what was logged in between. */
static int saved_stderr = -1;

static void log_capture(void)
{
	fflush(stderr);
	saved_stderr = dup(2);
	int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0 && saved_stderr >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

static void log_release(char *buf, size_t size)
{
	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	FILE *f = fopen(errpath, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = 0;
	fclose(f);
	fputs(buf, stderr); /* for whoever reads the test's output */
}

/* A listening SEQPACKET socket at path with that mode (a planted one). */
static int plant_socket(const char *path, mode_t mode)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(chmod(path, mode), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* Nobody connected to the planted socket. */
static bool never_connected(int fd)
{
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c >= 0)
		close(c);
	return c < 0 && errno == EAGAIN;
}

static void check_mode(const char *path, mode_t want)
{
	struct stat sb;
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, want);
	assert_int_equal(sb.st_gid, getegid());
}

static void test_group_switch(void **state)
{
	(void)state;
	char dir[512], path[600], log[8192];
	struct harness *h = new_machine();
	static struct tport a, b;
	assert_int_equal(tport_try(h, &a, "a", 1, "grp"), 0);
	snprintf(dir, sizeof(dir), "%s/switches", rundir);
	check_mode(dir, 02770);
	snprintf(dir, sizeof(dir), "%s/switches/grp", rundir);
	check_mode(dir, 02770);
	snprintf(path, sizeof(path), "%s/524f53000101.%d.0", dir, (int)getpid());
	check_mode(path, 0660);

	/* Planted: a socket open to everyone, a symlink to it, a FIFO; all
	 * named as ports are. */
	snprintf(path, sizeof(path), "%s/524f530000f1.1.0", dir);
	int planted = plant_socket(path, 0666);
	char link[600];
	snprintf(link, sizeof(link), "%s/524f530000f2.1.0", dir);
	assert_int_equal(symlink(path, link), 0);
	snprintf(path, sizeof(path), "%s/524f530000f3.1.0", dir);
	assert_int_equal(mkfifo(path, 0660), 0);

	assert_int_equal(tport_try(h, &b, "b", 2, "grp"), 0);
	log_capture();
	tport_send(&b);
	tport_send(&b); /* logged once */
	bool arrived = harness_run_until(h, 2000, got_one, &a);
	log_release(log, sizeof(log));
	assert_true(arrived);
	assert_true(never_connected(planted));
	assert_non_null(strstr(log, "524f530000f1.1.0 is a socket of uid"));
	assert_non_null(strstr(log, "mode 0666"));
	assert_non_null(strstr(log, "524f530000f2.1.0 is a symbolic link"));
	assert_non_null(strstr(log, "524f530000f3.1.0 is a FIFO"));
	assert_null(strstr(strstr(log, "f1.1.0 is a socket") + 1, "f1.1.0 is a socket"));
	/* Left alone: not ours to remove. */
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(access(link, F_OK), 0);

	net_port_destroy(a.p);
	net_port_destroy(b.p);
	close(planted);
	unlink(path);
	unlink(link);
	snprintf(path, sizeof(path), "%s/524f530000f1.1.0", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	free_machine(h);
}

/* As root: a switch folder another member made (another owner, the group
 * and 2770) is joined. */
static void test_folder_of_another_member(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/switches/theirs", rundir);
	assert_int_equal(mkdir(dir, 0770), 0);
	assert_int_equal(chown(dir, 65534, getegid()), 0);
	assert_int_equal(chmod(dir, 02770), 0);
	struct harness *h = new_machine();
	static struct tport a, b;
	assert_int_equal(tport_try(h, &a, "a", 1, "theirs"), 0);
	assert_int_equal(tport_try(h, &b, "b", 2, "theirs"), 0);
	tport_send(&a);
	assert_true(harness_run_until(h, 2000, got_one, &b));
	net_port_destroy(a.p);
	net_port_destroy(b.p);
	free_machine(h);
}

/* A folder others may use, or a symlink where the folder should be, is not
 * joined: -EPERM or -ENOTDIR with a line naming it. */
static void test_bad_folders(void **state)
{
	(void)state;
	char dir[512], log[4096];
	struct harness *h = new_machine();
	static struct tport a;
	snprintf(dir, sizeof(dir), "%s/switches/open", rundir);
	assert_int_equal(mkdir(dir, 0777), 0);
	assert_int_equal(chmod(dir, 02777), 0);
	log_capture();
	int r = tport_try(h, &a, "a", 1, "open");
	log_release(log, sizeof(log));
	assert_int_equal(r, -EPERM);
	assert_non_null(strstr(log, "switches/open is not a folder of the group"));
	assert_non_null(strstr(log, "mode 2777"));
	assert_int_equal(rmdir(dir), 0);

	snprintf(dir, sizeof(dir), "%s/switches/link", rundir);
	assert_int_equal(symlink(top, dir), 0);
	log_capture();
	r = tport_try(h, &a, "a", 1, "link");
	log_release(log, sizeof(log));
	assert_int_equal(r, -ENOTDIR);
	assert_non_null(strstr(log, "switches/link is not a folder (a symbolic link"));
	assert_int_equal(unlink(dir), 0);
	free_machine(h);
}

/* Without system mode the folder must be this user's and private. */
static void test_per_user_strict(void **state)
{
	(void)state;
	char own[300], dir[600], log[4096];
	snprintf(own, sizeof(own), "%s/user", top);
	assert_int_equal(mkdir(own, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/switches", own);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/switches/lab", own);
	assert_int_equal(mkdir(dir, 0770), 0);
	assert_int_equal(unsetenv("OSIO_SYSTEM"), 0);
	assert_int_equal(setenv("OSIO_RUNTIME_DIR", own, 1), 0);
	struct harness *h = new_machine();
	static struct tport a;
	log_capture();
	int r = tport_try(h, &a, "a", 1, "lab");
	log_release(log, sizeof(log));
	assert_int_equal(r, -EPERM);
	assert_non_null(strstr(log, "switches/lab is not a private folder of this user"));
	/* Once private, it is joined. */
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(tport_try(h, &a, "a", 1, "lab"), 0);
	net_port_destroy(a.p);
	free_machine(h);
	assert_int_equal(setenv("OSIO_SYSTEM", "1", 1), 0);
	assert_int_equal(setenv("OSIO_RUNTIME_DIR", rundir, 1), 0);
	snprintf(dir, sizeof(dir), "%s/switches", own);
	rmdir(dir);
	assert_int_equal(rmdir(own), 0);
}

int main(void)
{
	snprintf(top, sizeof(top), "/tmp/osio-test-private-shared-XXXXXX");
	if (!mkdtemp(top))
		return 1;
	snprintf(rundir, sizeof(rundir), "%s/run", top);
	snprintf(errpath, sizeof(errpath), "%s/log", top);
	/* As /run/osio: the group's, setgid; osio's umask in system mode. */
	if (mkdir(rundir, 0770) < 0 || chmod(rundir, 02770) < 0)
		return 1;
	umask(007);
	setenv("OSIO_SYSTEM", "1", 1);
	setenv("OSIO_RUNTIME_DIR", rundir, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_switch),
	    cmocka_unit_test(test_folder_of_another_member),
	    cmocka_unit_test(test_bad_folders),
	    cmocka_unit_test(test_per_user_strict),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char sw[400];
	snprintf(sw, sizeof(sw), "%s/switches", rundir);
	rmdir(sw);
	rmdir(rundir);
	unlink(errpath);
	rmdir(top);
	return r;
}
