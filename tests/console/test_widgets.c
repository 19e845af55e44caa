/* The console dialogs' parts that need no terminal: wrap_text, the line
 * editor of text fields, the file browser's listings, type-ahead and list
 * scrolling. */
#include "console/dlgbox.h"
#include "console/filelist.h"
#include "console/lineedit.h"
#include "console/widgets.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* wrap_text(text, width) into at most max lines gives the lines of want
 * (NULL-terminated), and no more. */
static void check_wrap(const char *text, int width, unsigned max, const char *const *want)
{
	char l[8][256];
	unsigned n = 0;

	assert_true(max <= 8);
	while (want[n])
		n++;
	assert_int_equal(wrap_text(text, width, l, max), n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(l[i], want[i]);
}

#define WRAP(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_wrap_words(void **state)
{
	(void)state;
	check_wrap("the quick brown fox jumps", 10, 8, WRAP("the quick", "brown fox", "jumps"));
	/* A word that fits exactly, and spaces at the break dropped. */
	check_wrap("abcde   fghij", 5, 8, WRAP("abcde", "fghij"));
	check_wrap("", 10, 8, (const char *const[]){NULL});
}

static void test_wrap_newlines(void **state)
{
	(void)state;
	/* Indentation after '\n' is kept. */
	check_wrap("one\n\n  two\n", 20, 8, WRAP("one", "", "  two"));
	check_wrap("a\r\nb\tc\001d", 20, 8, WRAP("a", "b c?d"));
}

static void test_wrap_long_word_and_max(void **state)
{
	char l[4][256];

	(void)state;
	check_wrap("abcdefghijkl", 5, 4, WRAP("abcde", "fghij", "kl"));
	check_wrap("a b c d e f g h", 1, 4, WRAP("a", "b", "c", "d"));
	/* width < 1 still makes progress. */
	assert_int_equal(wrap_text("xy", 0, l, 4), 2);
}

static void test_wrap_utf8(void **state)
{
	(void)state;
	/* "é" is two bytes and one column; CJK characters take two. */
	check_wrap("\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9", 5, 8,
		   WRAP("\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9"));
	check_wrap("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, 8,
		   WRAP("\xe6\x97\xa5\xe6\x9c\xac", "\xe8\xaa\x9e"));
	/* An invalid byte is shown as '?', never copied. */
	check_wrap("a\xff"
		   "b",
		   10, 8, WRAP("a?b"));
}

static void test_wrap_line_bytes(void **state)
{
	char text[1200], (*l)[256] = malloc(16 * 256);
	unsigned n;

	(void)state;
	/* 400 three-byte characters: a line holds at most 255 bytes. */
	for (int i = 0; i < 400; i++)
		memcpy(text + 3 * i, "\xe2\x82\xac", 3);
	text[1200 - 1] = 0;
	text[3 * 399] = 0;
	n = wrap_text(text, 1000, l, 16);
	assert_int_equal(n, 5);
	for (unsigned i = 0; i < n; i++)
		assert_true(strlen(l[i]) <= 255 && strlen(l[i]) % 3 == 0);
	assert_int_equal(strlen(l[0]), 255);
	free(l);
}

static void test_lineedit_basic(void **state)
{
	char buf[8] = "abc";
	struct lineedit e;

	(void)state;
	lineedit_init(&e, buf, sizeof(buf));
	assert_int_equal(e.cur, 3);
	assert_true(lineedit_insert(&e, L'd'));
	assert_string_equal(buf, "abcd");
	lineedit_home(&e);
	assert_true(lineedit_insert(&e, L'X'));
	assert_string_equal(buf, "Xabcd");
	lineedit_right(&e);
	assert_true(lineedit_delete(&e));
	assert_string_equal(buf, "Xacd");
	assert_true(lineedit_backspace(&e));
	assert_string_equal(buf, "Xcd");
	assert_int_equal(e.cur, 1);
	/* Full: 7 bytes at most. */
	lineedit_end(&e);
	assert_true(lineedit_insert(&e, L'1'));
	assert_true(lineedit_insert(&e, L'2'));
	assert_true(lineedit_insert(&e, L'3'));
	assert_true(lineedit_insert(&e, L'4'));
	assert_false(lineedit_insert(&e, L'5'));
	assert_string_equal(buf, "Xcd1234");
	assert_false(lineedit_insert(&e, L'\t'));
	lineedit_end(&e);
	assert_false(lineedit_delete(&e));
	assert_true(lineedit_clear(&e));
	assert_string_equal(buf, "");
	assert_false(lineedit_clear(&e));
	assert_false(lineedit_backspace(&e));
}

static void test_lineedit_utf8(void **state)
{
	char buf[8] = "";
	struct lineedit e;

	(void)state;
	lineedit_init(&e, buf, sizeof(buf));
	assert_true(lineedit_insert(&e, L'\u00e9'));  /* 2 bytes */
	assert_true(lineedit_insert(&e, L'\u65e5'));  /* 3 bytes */
	assert_false(lineedit_insert(&e, L'\u65e5')); /* would make 8 */
	assert_true(lineedit_insert(&e, L'x'));
	assert_string_equal(buf, "\xc3\xa9\xe6\x97\xa5x");
	assert_int_equal(utf8_width(buf, strlen(buf)), 4);
	lineedit_left(&e);
	lineedit_left(&e);
	assert_int_equal(e.cur, 2);
	assert_true(lineedit_backspace(&e)); /* the é */
	assert_string_equal(buf, "\xe6\x97\xa5x");
	assert_int_equal(e.cur, 0);
	assert_true(lineedit_delete(&e)); /* the 日 */
	assert_string_equal(buf, "x");
}

static void test_lineedit_view(void **state)
{
	char buf[32] = "abcdefghij";
	struct lineedit e;
	int col;

	(void)state;
	lineedit_init(&e, buf, sizeof(buf));
	/* Cursor at the end of 10 characters in 5 columns: "ghij" and the
	 * cursor after them. */
	col = lineedit_view(&e, 5);
	assert_int_equal(e.scroll, 6);
	assert_int_equal(col, 4);
	lineedit_home(&e);
	col = lineedit_view(&e, 5);
	assert_int_equal(e.scroll, 0);
	assert_int_equal(col, 0);
	/* A field wide enough shows everything. */
	lineedit_end(&e);
	assert_int_equal(lineedit_view(&e, 20), 10);
	assert_int_equal(e.scroll, 0);
	/* After deleting, what was scrolled away comes back. */
	lineedit_view(&e, 5);
	for (int i = 0; i < 6; i++)
		lineedit_backspace(&e);
	col = lineedit_view(&e, 5);
	assert_string_equal(buf, "abcd");
	assert_int_equal(e.scroll, 0);
	assert_int_equal(col, 4);
}

static void test_match(void **state)
{
	(void)state;
	assert_true(filelist_match("debian.iso", "*.iso,*.img"));
	assert_true(filelist_match("DEBIAN.ISO", "*.iso, *.img"));
	assert_true(filelist_match("a.img", " *.iso , *.img "));
	assert_false(filelist_match("a.vhdx", "*.iso,*.img"));
	assert_true(filelist_match("a.vhdx", NULL));
	assert_true(filelist_match("a.vhdx", ""));
	assert_true(filelist_match("a.vhdx", ", ,"));
	assert_false(filelist_match("isos", "*.iso"));
}

static void test_resolve(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(filelist_resolve("/home/u", "disk.vhdx", out, sizeof(out)), 0);
	assert_string_equal(out, "/home/u/disk.vhdx");
	assert_int_equal(filelist_resolve("/home/u", "../v/./x//y/", out, sizeof(out)), 0);
	assert_string_equal(out, "/home/v/x/y");
	assert_int_equal(filelist_resolve("/home/u", "/../..", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(filelist_resolve("/", "..", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	setenv("HOME", "/home/me", 1);
	assert_int_equal(filelist_resolve("/x", "~/isos", out, sizeof(out)), 0);
	assert_string_equal(out, "/home/me/isos");
	assert_int_equal(filelist_resolve("/x", "~", out, sizeof(out)), 0);
	assert_string_equal(out, "/home/me");
	/* "~user" is not expanded: a relative name. */
	assert_int_equal(filelist_resolve("/x", "~bob", out, sizeof(out)), 0);
	assert_string_equal(out, "/x/~bob");
	unsetenv("HOME");
	assert_int_equal(filelist_resolve("/x", "~/a", out, sizeof(out)), -ENOENT);
	assert_int_equal(filelist_resolve("/x",
					  "a-name-much-longer-than-the-output-buffer-can-hold-here",
					  out, 16),
			 -ENAMETOOLONG);
}

static void test_split_and_size(void **state)
{
	char d[64], n[64], s[32];

	(void)state;
	assert_int_equal(filelist_split("/a/b", d, sizeof(d), n, sizeof(n)), 0);
	assert_string_equal(d, "/a");
	assert_string_equal(n, "b");
	assert_int_equal(filelist_split("/a", d, sizeof(d), n, sizeof(n)), 0);
	assert_string_equal(d, "/");
	assert_string_equal(n, "a");
	assert_int_equal(filelist_split("/", d, sizeof(d), n, sizeof(n)), 0);
	assert_string_equal(d, "/");
	assert_string_equal(n, "");
	filelist_size_str(512, s, sizeof(s));
	assert_string_equal(s, "512 B");
	filelist_size_str(1536, s, sizeof(s));
	assert_string_equal(s, "1.5 KB");
	filelist_size_str(20ULL << 30, s, sizeof(s));
	assert_string_equal(s, "20 GB");
	filelist_size_str(1ULL << 20, s, sizeof(s));
	assert_string_equal(s, "1 MB");
}

static void touch(const char *dir, const char *name, size_t size)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static void sub(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void test_read(void **state)
{
	char dir[] = "/tmp/osio-test-filelist-XXXXXX", p[512], cmd[600];
	struct file_list l;

	(void)state;
	assert_non_null(mkdtemp(dir));
	touch(dir, "b.iso", 2048);
	touch(dir, "A.ISO", 10);
	touch(dir, "notes.txt", 1);
	touch(dir, ".hidden.iso", 1);
	sub(dir, "zeta");
	sub(dir, "Alpha");
	sub(dir, ".cache");
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("zeta", p), 0);

	assert_int_equal(filelist_read(&l, dir, "*.iso", false, false), 0);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.e[0].name, "..");
	assert_string_equal(l.e[1].name, "Alpha");
	assert_true(l.e[1].dir);
	assert_string_equal(l.e[2].name, "link"); /* a link to a folder is one */
	assert_true(l.e[2].dir);
	assert_string_equal(l.e[3].name, "zeta");
	assert_string_equal(l.e[4].name, "A.ISO");
	assert_false(l.e[4].dir);
	assert_int_equal(l.e[4].size, 10);
	assert_string_equal(l.e[5].name, "b.iso");
	assert_int_equal(l.e[5].size, 2048);
	filelist_free(&l);

	assert_int_equal(filelist_read(&l, dir, NULL, false, true), 0);
	assert_int_equal(l.n, 9);
	assert_string_equal(l.e[1].name, ".cache");
	filelist_free(&l);

	assert_int_equal(filelist_read(&l, dir, NULL, true, false), 0);
	assert_int_equal(l.n, 4);
	for (unsigned i = 0; i < l.n; i++)
		assert_true(l.e[i].dir);
	filelist_free(&l);

	assert_int_equal(filelist_read(&l, "/", NULL, true, false), 0);
	assert_true(l.n > 0);
	assert_string_not_equal(l.e[0].name, "..");
	filelist_free(&l);

	snprintf(p, sizeof(p), "%s/missing", dir);
	assert_int_equal(filelist_read(&l, p, NULL, false, false), -ENOENT);
	assert_int_equal(l.n, 0);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	assert_int_equal(filelist_read(&l, p, NULL, false, false), -ENOTDIR);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_sort(void **state)
{
	char n0[] = "b", n1[] = "..", n2[] = "a", n3[] = "B", n4[] = "dir";
	struct file_entry e[] = {
	    {n0, false, 0}, {n1, true, 0}, {n2, false, 0}, {n3, false, 0}, {n4, true, 0},
	};

	(void)state;
	filelist_sort(e, 5);
	assert_string_equal(e[0].name, "..");
	assert_string_equal(e[1].name, "dir");
	assert_string_equal(e[2].name, "a");
	assert_string_equal(e[3].name, "B");
	assert_string_equal(e[4].name, "b");
}

static void test_typeahead_and_scroll(void **state)
{
	static const char *const items[] = {"1 GB", "2 GB", "4 GB", "Alpha", "beta", "Bravo"};
	int top;

	(void)state;
	assert_int_equal(dlg_typeahead(items, 6, 0, L'2'), 1);
	assert_int_equal(dlg_typeahead(items, 6, 3, L'b'), 4);
	assert_int_equal(dlg_typeahead(items, 6, 4, L'B'), 5);
	assert_int_equal(dlg_typeahead(items, 6, 5, L'b'), 4); /* wraps */
	assert_int_equal(dlg_typeahead(items, 6, -1, L'a'), 3);
	assert_int_equal(dlg_typeahead(items, 6, 0, L'z'), -1);
	top = 0;
	dlg_list_scroll(&top, 12, 5, 20);
	assert_int_equal(top, 8);
	dlg_list_scroll(&top, 3, 5, 20);
	assert_int_equal(top, 3);
	top = 18;
	dlg_list_scroll(&top, 19, 5, 20);
	assert_int_equal(top, 15);
	top = 4;
	dlg_list_scroll(&top, 1, 5, 3);
	assert_int_equal(top, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wrap_words),
	    cmocka_unit_test(test_wrap_newlines),
	    cmocka_unit_test(test_wrap_long_word_and_max),
	    cmocka_unit_test(test_wrap_utf8),
	    cmocka_unit_test(test_wrap_line_bytes),
	    cmocka_unit_test(test_lineedit_basic),
	    cmocka_unit_test(test_lineedit_utf8),
	    cmocka_unit_test(test_lineedit_view),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_split_and_size),
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_sort),
	    cmocka_unit_test(test_typeahead_and_scroll),
	};

	if (!setlocale(LC_ALL, "C.UTF-8")) {
		fprintf(stderr, "no C.UTF-8 locale\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
