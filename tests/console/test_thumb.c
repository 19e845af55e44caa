/* The live thumbnail (console/thumb.c) against a fake worker on a Unix
 * socket: display-attach and the buffer mapped, the picture drawn with half
 * blocks, updates folded in at most THUMB_FPS times a second and none while
 * the screen is idle, another box size, display-resize, a hostile worker's
 * rectangles and buffers, the connection lost (the picture stays, marked). */
#include "console/console.h"
#include "console/halfblock.h"
#include "console/loop.h"
#include "console/thumb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/console/fake_term.h"
#include "tests/lib/fakeworker.h"

struct fake_fb {
	int fd;
	uint32_t *px;
	int w, h;
	size_t size;
};

static void fb_new(struct fake_fb *f, int w, int h, uint32_t fill)
{
	f->w = w;
	f->h = h;
	f->size = (size_t)w * h * 4;
	f->fd = memfd_create("fake-fb", MFD_CLOEXEC);
	assert_true(f->fd >= 0);
	assert_int_equal(ftruncate(f->fd, (off_t)f->size), 0);
	f->px = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	assert_true(f->px != MAP_FAILED);
	for (int i = 0; i < w * h; i++)
		f->px[i] = fill;
}

static void fb_fill(struct fake_fb *f, int x0, int y0, int w, int h, uint32_t c)
{
	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++)
			f->px[y * f->w + x] = c;
}

static void fb_free(struct fake_fb *f)
{
	munmap(f->px, f->size);
	close(f->fd);
}

struct fake_vm {
	char dir[32], path[64];
	int lfd, conn;
	struct fake_fb fb;
	pthread_t thread;
};

/* One line, with a descriptor (fd >= 0) as SCM_RIGHTS. */
static void send_line(int sock, const char *line, int fd)
{
	assert_true(fakeworker_send(sock, line, fd));
}

/* The worker's side of thumb_open: the greeting, then display-attach's
 * reply with the buffer. */
static void *fake_serve(void *opaque)
{
	struct fake_vm *vm = opaque;
	vm->conn = accept4(vm->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (vm->conn < 0)
		return NULL;
	send_line(vm->conn, "{\"osio\": {\"protocol\": 2, \"vm\": \"fake\"}}\n", -1);
	char req[512];
	if (fakeworker_recv_line(vm->conn, req, sizeof(req), -1) < 0 ||
	    !strstr(req, "\"display-attach\""))
		return NULL;
	char line[256];
	snprintf(line, sizeof(line),
		 "{\"return\": {\"width\": %d, \"height\": %d, \"stride\": %d, \"size\": %zu, "
		 "\"format\": \"xrgb8888\", \"fd\": true}, \"id\": 1}\n",
		 vm->fb.w, vm->fb.h, vm->fb.w * 4, vm->fb.size);
	send_line(vm->conn, line, vm->fb.fd);
	return NULL;
}

static void fake_vm_new(struct fake_vm *vm, int w, int h, uint32_t fill)
{
	memset(vm, 0, sizeof(*vm));
	vm->conn = -1;
	snprintf(vm->dir, sizeof(vm->dir), "/tmp/osio-thumb.XXXXXX");
	assert_non_null(mkdtemp(vm->dir));
	snprintf(vm->path, sizeof(vm->path), "%s/fake.sock", vm->dir);
	vm->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vm->path);
	assert_int_equal(bind(vm->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(vm->lfd, 4), 0);
	fb_new(&vm->fb, w, h, fill);
	assert_int_equal(pthread_create(&vm->thread, NULL, fake_serve, vm), 0);
}

static void fake_vm_joined(struct fake_vm *vm)
{
	pthread_join(vm->thread, NULL);
	assert_true(vm->conn >= 0);
}

static void fake_vm_free(struct fake_vm *vm)
{
	if (vm->conn >= 0)
		close(vm->conn);
	close(vm->lfd);
	fb_free(&vm->fb);
	unlink(vm->path);
	rmdir(vm->dir);
}

static void fake_update(struct fake_vm *vm, const char *rects)
{
	char line[512];
	snprintf(line, sizeof(line), "{\"event\": \"display-update\", \"data\": {\"rects\": %s}}\n",
		 rects);
	send_line(vm->conn, line, -1);
}

/* Runs the loop until con is dirty or ms pass; the milliseconds it took,
 * or -1. */
static int wait_dirty(struct console *con, int ms)
{
	uint64_t t0 = loop_now_ms();
	while (!con->dirty) {
		int left = ms - (int)(loop_now_ms() - t0);
		if (left <= 0)
			return -1;
		loop_once(con->loop, left);
	}
	return (int)(loop_now_ms() - t0);
}

/* The colour pair's colours of cell (y, x): 256-colour indexes. */
static void cell_colours(WINDOW *w, int y, int x, int *fg, int *bg)
{
	wchar_t wc;
	int pair;
	cell_at(w, y, x, &wc, &pair);
	assert_int_equal(wc, 0x2580);
	assert_int_equal(extended_pair_content(pair, fg, bg), OK);
}

static bool window_has(WINDOW *w, int y, const char *text)
{
	char line[256];
	int n = mvwinnstr(w, y, 0, line, sizeof(line) - 1);
	return n > 0 && strstr(line, text);
}

static void test_thumb_live(void **state)
{
	struct fake_term ft;
	if (!fake_terminal(&ft, "xterm-256color", 256))
		skip();
	struct console con = {.colour = true, .colours = COLORS, .unicode = true};
	con.loop = loop_new();
	assert_non_null(con.loop);
	struct fake_vm vm;
	fake_vm_new(&vm, 64, 48, 0xff0000);
	struct thumb *t = thumb_open(&con, vm.path);
	fake_vm_joined(&vm);
	assert_non_null(t);
	assert_string_equal(thumb_mode(t), "64x48");

	/* 64x48 in a 20x10 box: 20x8 cells (4:3), centred one row down. */
	WINDOW *w = newwin(12, 24, 0, 0);
	int fg, bg, red = hb_rgb_to_256(0xff0000), blue = hb_rgb_to_256(0x0000ff);
	thumb_draw(t, w, 0, 0, 10, 20);
	cell_colours(w, 1, 0, &fg, &bg);
	assert_true(fg == red && bg == red);
	cell_colours(w, 8, 19, &fg, &bg);
	assert_true(fg == red && bg == red);
	wchar_t wc;
	int pair;
	cell_at(w, 0, 0, &wc, &pair); /* above the picture: blank */
	assert_int_equal(wc, L' ');
	cell_at(w, 9, 0, &wc, &pair);
	assert_int_equal(wc, L' ');

	/* Nothing changes: nothing happens (no timer, no redraw). */
	con.dirty = false;
	assert_int_equal(wait_dirty(&con, 300), -1);

	/* The left half turns blue: one update folds it into the cells. */
	fb_fill(&vm.fb, 0, 0, 32, 48, 0x0000ff);
	fake_update(&vm, "[[0, 0, 32, 48]]");
	assert_true(wait_dirty(&con, 2000) >= 0);
	thumb_draw(t, w, 0, 0, 10, 20);
	cell_colours(w, 4, 9, &fg, &bg);
	assert_true(fg == blue && bg == blue);
	cell_colours(w, 4, 10, &fg, &bg);
	assert_true(fg == red && bg == red);

	/* Updates right after: folded in no sooner than 1/THUMB_FPS s after
	 * the last time, all at once. */
	con.dirty = false;
	uint64_t t0 = loop_now_ms();
	for (int i = 0; i < 5; i++) {
		fb_fill(&vm.fb, 32 + 6 * i, 0, 6, 48, 0x00ff00);
		char r[64];
		snprintf(r, sizeof(r), "[[%d, 0, 6, 48]]", 32 + 6 * i);
		fake_update(&vm, r);
	}
	assert_true(wait_dirty(&con, 2000) >= 0);
	assert_true(loop_now_ms() - t0 >= 1000 / THUMB_FPS - 60);
	thumb_draw(t, w, 0, 0, 10, 20);
	cell_colours(w, 4, 14, &fg, &bg);
	assert_true(fg == hb_rgb_to_256(0x00ff00) && bg == fg);
	con.dirty = false;
	assert_int_equal(wait_dirty(&con, 250), -1); /* one redraw for all five */

	/* A hostile worker's rectangles: out of range, the wrong shape, huge.
	 * Nothing outside the picture is read; the picture is still right. */
	fake_update(&vm, "[[-99999999999, 5, 10, 10], [5, 5, -3, 9], [0, 0, 99999999999, "
			 "99999999999], \"x\", [1, 2, 3], [1.5, 2, 3, 4], [60, 40, 100, 100]]");
	fake_update(&vm, "{\"not\": \"an array\"}");
	assert_true(wait_dirty(&con, 2000) >= 0);
	thumb_draw(t, w, 0, 0, 10, 20);
	cell_colours(w, 1, 0, &fg, &bg);
	assert_true(fg == blue && bg == blue);

	/* A box of another size: the cells are computed again for it. */
	thumb_draw(t, w, 0, 0, 4, 24); /* 4 rows: 11x4 cells from column 6 */
	cell_colours(w, 0, 7, &fg, &bg);
	assert_true(fg == blue && bg == blue);
	cell_colours(w, 0, 14, &fg, &bg);
	assert_true(fg == hb_rgb_to_256(0x00ff00));

	/* A mode change: a new buffer with the event. */
	struct fake_fb fb2;
	fb_new(&fb2, 32, 32, 0xffffff);
	char line[256];
	snprintf(line, sizeof(line),
		 "{\"event\": \"display-resize\", \"data\": {\"width\": 32, \"height\": 32, "
		 "\"stride\": 128, \"size\": %zu, \"format\": \"xrgb8888\", \"fd\": true}}\n",
		 fb2.size);
	con.dirty = false;
	send_line(vm.conn, line, fb2.fd);
	assert_true(wait_dirty(&con, 2000) >= 0);
	assert_string_equal(thumb_mode(t), "32x32");
	wclear(w);
	thumb_draw(t, w, 0, 0, 10, 20); /* square: 20x10 cells */
	int white = hb_rgb_to_256(0xffffff);
	cell_colours(w, 5, 10, &fg, &bg);
	assert_true(fg == white && bg == white);

	/* The worker dies: the picture stays, marked. */
	close(vm.conn);
	vm.conn = -1;
	con.dirty = false;
	assert_true(wait_dirty(&con, 2000) >= 0);
	thumb_draw(t, w, 0, 0, 10, 20);
	bool marked = false;
	for (int y = 0; y < 10; y++)
		marked |= window_has(w, y, "(disconnected)");
	assert_true(marked);
	cell_colours(w, 3, 10, &fg, &bg);
	assert_true(fg == white);
	thumb_close(t);
	fb_free(&fb2);

	/* No thumbnail: a box that says so. */
	wclear(w);
	thumb_draw(NULL, w, 0, 0, 10, 20);
	bool said = false;
	for (int y = 0; y < 10; y++)
		said |= window_has(w, y, "No picture");
	assert_true(said);
	assert_string_equal(thumb_mode(NULL), "");

	delwin(w);
	fake_vm_free(&vm);
	loop_free(con.loop);
	end_terminal(&ft);
}

/* A bad buffer in display-resize: no picture, the reason shown; and
 * thumb_open of a VM that is not there. */
static void test_thumb_bad_worker(void **state)
{
	struct fake_term ft;
	if (!fake_terminal(&ft, "xterm-256color", 256))
		skip();
	struct console con = {.colour = true, .colours = COLORS, .unicode = true};
	con.loop = loop_new();
	assert_null(thumb_open(&con, "/nonexistent/osio-thumb.sock"));
	struct fake_vm vm;
	fake_vm_new(&vm, 16, 16, 0x00ff00);
	struct thumb *t = thumb_open(&con, vm.path);
	fake_vm_joined(&vm);
	assert_non_null(t);
	/* The size claims more than the descriptor holds. */
	struct fake_fb small;
	fb_new(&small, 4, 4, 0);
	send_line(vm.conn,
		  "{\"event\": \"display-resize\", \"data\": {\"width\": 640, \"height\": 480, "
		  "\"stride\": 2560, \"size\": 1228800, \"fd\": true}}\n",
		  small.fd);
	assert_true(wait_dirty(&con, 2000) >= 0);
	assert_string_equal(thumb_mode(t), "");
	WINDOW *w = newwin(10, 40, 0, 0);
	thumb_draw(t, w, 0, 0, 10, 40);
	bool said = false;
	for (int y = 0; y < 10; y++)
		said |= window_has(w, y, "No picture");
	assert_true(said);
	/* Updates for a picture that is not there are ignored. */
	fake_update(&vm, "[[0, 0, 4, 4]]");
	con.dirty = false;
	assert_int_equal(wait_dirty(&con, 200), -1);
	thumb_close(t);
	delwin(w);
	fb_free(&small);
	fake_vm_free(&vm);
	loop_free(con.loop);
	end_terminal(&ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thumb_live),
	    cmocka_unit_test(test_thumb_bad_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
