/* vmconfig_save: replaces the file in one step, keeps permissions and links;
 * a failing save (no room, read-only directory) leaves the old file intact. */
#include "vctest.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char original[] = "# the original\n[vm]\nname = before\n";

struct fixture {
	char dir[64];
	char file[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/vmconfig-save-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/vm.vmconfig", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *e;
	char path[PATH_MAX];
	DIR *d;

	chmod(f->dir, 0700);
	d = opendir(f->dir);
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static unsigned count_entries(const char *dir)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void assert_file_is(const char *path, const char *text)
{
	size_t len;
	char *got = vct_read_file(path, &len);

	assert_int_equal(len, strlen(text));
	assert_string_equal(got, text);
	free(got);
}

/* A document loaded from f->file with name changed to "after". */
static struct vmconfig *edited(struct fixture *f)
{
	struct vmconfig_error err;
	struct vmconfig *cfg;

	vct_write_file(f->file, original);
	cfg = vmconfig_load(f->file, &err);
	assert_non_null(cfg);
	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "name", "after", &err), 0);
	return cfg;
}

static void test_save_new_and_replace(void **state)
{
	struct fixture *f = *state;
	struct vmconfig *cfg = vmconfig_new(NULL);
	struct vmconfig_error err;
	mode_t old_umask = umask(022);
	struct stat st;

	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "cpus", "2", &err), 0);
	assert_int_equal(vmconfig_save(cfg, NULL), -EINVAL); /* no path anywhere */
	assert_int_equal(vmconfig_save(cfg, f->file), 0);
	assert_file_is(f->file, "[vm]\ncpus = 2\n");
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* 0666 less the umask */
	assert_int_equal(count_entries(f->dir), 1);
	vmconfig_free(cfg);

	/* Over an existing file: its permissions stay. */
	cfg = edited(f);
	assert_int_equal(chmod(f->file, 0600), 0);
	assert_int_equal(vmconfig_save(cfg, NULL), 0); /* the path it was loaded from */
	assert_file_is(f->file, "# the original\n[vm]\nname = after\n");
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(f->dir), 1);
	vmconfig_free(cfg);
	umask(old_umask);
}

static void test_save_through_symlink(void **state)
{
	struct fixture *f = *state;
	struct vmconfig *cfg = edited(f);
	char link[160];
	struct stat st;

	snprintf(link, sizeof(link), "%s/link.vmconfig", f->dir);
	assert_int_equal(symlink("vm.vmconfig", link), 0);
	assert_int_equal(vmconfig_save(cfg, link), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file_is(f->file, "# the original\n[vm]\nname = after\n");
	assert_int_equal(count_entries(f->dir), 2);
	vmconfig_free(cfg);
}

static void test_save_errors(void **state)
{
	struct fixture *f = *state;
	struct vmconfig *cfg = edited(f);
	char path[160];

	/* A directory in the way, a directory that is not there. */
	assert_int_equal(vmconfig_save(cfg, f->dir), -EISDIR);
	snprintf(path, sizeof(path), "%s/missing/vm.vmconfig", f->dir);
	assert_int_equal(vmconfig_save(cfg, path), -ENOENT);
	assert_file_is(f->file, original);
	assert_int_equal(count_entries(f->dir), 1);
	vmconfig_free(cfg);
}

/* A disk that fills up mid-write (here: the file size limit). */
static void test_save_no_room(void **state)
{
	struct fixture *f = *state;
	struct vmconfig *cfg = edited(f);
	struct rlimit old, small;
	void (*old_handler)(int);
	int r;

	old_handler = signal(SIGXFSZ, SIG_IGN); /* get EFBIG, not the signal */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	r = vmconfig_save(cfg, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(r, -EFBIG);
	assert_file_is(f->file, original);
	assert_int_equal(count_entries(f->dir), 1); /* the temp file is gone */
	vmconfig_free(cfg);
}

/* A directory the user cannot write to. root can write anywhere, so as
 * root the save runs in a child that has become nobody. */
static void test_save_read_only_dir(void **state)
{
	struct fixture *f = *state;
	struct vmconfig *cfg = edited(f);
	int status, r;
	pid_t pid;

	assert_int_equal(chmod(f->dir, 0555), 0);
	if (geteuid() != 0) {
		assert_int_equal(vmconfig_save(cfg, NULL), -EACCES);
	} else {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(100);
			r = vmconfig_save(cfg, NULL);
			_exit(r == -EACCES ? 0 : 101);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_file_is(f->file, original);
	assert_int_equal(count_entries(f->dir), 1);
	vmconfig_free(cfg);
}

/* Saved text loads back to the same document, byte for byte. */
static void test_save_round_trip(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX];
	struct vmconfig_error err;
	struct vmconfig *cfg;
	size_t len;
	char *text;

	snprintf(src, sizeof(src), "%s/crlf.vmconfig", vct_data_dir());
	cfg = vmconfig_load(src, &err);
	assert_non_null(cfg);
	assert_int_equal(vmconfig_save(cfg, f->file), 0);
	text = vct_read_file(src, &len);
	assert_file_is(f->file, text);
	free(text);
	vmconfig_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_save_new_and_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_through_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_no_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_read_only_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
