/* The osio console's core: the terminal set up and given back, the wait
 * for a key that keeps the VM list live (con_getkey), the selection's
 * details and thumbnail kept in step with the list, and osio commands run
 * for the user with a busy box, in the background or in the foreground. */
#include "console/console.h"

#include "console/jobs.h"
#include "console/loop.h"
#include "console/monitor.h"
#include "console/run.h"
#include "console/screen.h"
#include "console/theme.h"
#include "console/thumb.h"
#include "console/widgets.h"
#include "hypervisor/store.h"

#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ncursesw/panel.h>

/* OSIO_CONSOLE_TRACE=FILE: a line per screen drawn (for bench-console). */
static FILE *trace_file;
static uint64_t trace_t0;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void con_dirty(struct console *con)
{
	con->dirty = true;
}

void con_say(struct console *con, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(con->message, sizeof(con->message), fmt, ap);
	va_end(ap);
	con->dirty = true;
}

static bool vm_has_worker(enum vm_state s)
{
	return s == VM_RUNNING || s == VM_PAUSED || s == VM_STARTING || s == VM_SAVING;
}

/* The details and the thumbnail follow the selected VM: reloaded when
 * another VM is selected, its vmconfig changed, or it started or stopped. */
static void sync_selection(struct console *con, bool reload)
{
	struct vm_row *row = model_selected(&con->model);
	const char *name = row ? row->info.name : "";
	bool other = strcmp(name, con->details.name) != 0;

	if (other || reload) {
		if (other)
			con->details_top = 0;
		memset(&con->details, 0, sizeof(con->details));
		if (row && vmdetails_load(name, &con->details) < 0)
			snprintf(con->details.name, sizeof(con->details.name), "%s", name);
		snprintf(con->details.name, sizeof(con->details.name), "%s", name);
		con->dirty = true;
	}
	bool want = row && vm_has_worker(row->info.state) && row->info.state != VM_STARTING;
	if (con->thumb && (other || !want)) {
		thumb_close(con->thumb);
		con->thumb = NULL;
		con->thumb_vm[0] = 0;
		con->dirty = true;
	}
	/* One try per VM start: a VM without a display is not asked again
	 * every second. */
	if (want && !con->thumb && (other || strcmp(con->thumb_vm, name) != 0 ||
				    con->thumb_pid != row->info.pid)) {
		con->thumb = thumb_open(con, name);
		snprintf(con->thumb_vm, sizeof(con->thumb_vm), "%s", name);
		con->thumb_pid = row->info.pid;
		con->dirty = true;
	}
	if (!row)
		con->thumb_vm[0] = 0;
}

void con_reload_details(struct console *con)
{
	sync_selection(con, true);
}

/* The monitor's news is taken 40 ms after it first says there is some,
 * so that the figures of VMs refreshed together (each second) make one
 * frame, not one per VM. */
#define TAKE_DELAY_MS 40
static int take_timer;

static void monitor_take_now(void *opaque)
{
	struct console *con = opaque;
	take_timer = 0;
	unsigned what = monitor_take(con->mon, &con->model);
	if (!what)
		return;
	con->dirty = true;
	bool reload = con->details.name[0] && monitor_config_changed(con->mon, con->details.name);
	sync_selection(con, reload);
}

static void monitor_changed(void *opaque)
{
	struct console *con = opaque;
	if (!take_timer)
		take_timer = loop_timer(con->loop, TAKE_DELAY_MS, monitor_take_now, con);
	if (take_timer < 0) /* out of memory: take it now */
		monitor_take_now(con);
}

static void draw(struct console *con)
{
	uint64_t t = trace_file ? now_us() : 0;
	if (con->dirty) {
		con->dirty = false;
		screen_layout(con, &con->layout);
		model_scroll(&con->model, con->layout.list_rows > 0 ? (unsigned)con->layout.list_rows : 1);
		screen_draw(con, &con->layout);
		/* screen_draw's wnoutrefresh(stdscr) cleared what update_panels
		 * goes by: the dialogs above must be drawn over it again. */
		for (PANEL *p = panel_above(NULL); p; p = panel_above(p))
			touchwin(panel_window(p));
	}
	update_panels();
	doupdate();
	if (trace_file) {
		fprintf(trace_file, "%llu frame %llu us %u vms %u running\n",
			(unsigned long long)((t - trace_t0) / 1000),
			(unsigned long long)(now_us() - t), con->model.n,
			model_count_running(&con->model));
		fflush(trace_file);
	}
}

/* After the terminal shrank: ncurses leaves a window that began past the
 * new edge where it was, and drawing it (update_panels) then reads past
 * the screen's lines. Every panel's window is cut to the terminal and
 * moved into it, first of all; its dialog centres it again on its
 * KEY_RESIZE. */
static void fit_panels(void)
{
	for (PANEL *p = panel_above(NULL); p; p = panel_above(p)) {
		WINDOW *w = panel_window(p);
		int h = getmaxy(w), wd = getmaxx(w), y = getbegy(w), x = getbegx(w);

		if (h > LINES)
			h = LINES;
		if (wd > COLS)
			wd = COLS;
		if (y > LINES - h)
			y = LINES - h;
		if (x > COLS - wd)
			x = COLS - wd;
		if (h < 1 || wd < 1 || y < 0 || x < 0)
			continue; /* a terminal of no size: nothing to draw */
		if (h == getmaxy(w) && wd == getmaxx(w) && y == getbegy(w) && x == getbegx(w))
			continue;
		/* Shrunk first, so that the move always fits the terminal. */
		wresize(w, 1, 1);
		move_panel(p, y, x);
		wresize(w, h, wd);
		replace_panel(p, w);
	}
}

/* One key if there is one, without waiting: -1 when none. */
static int read_key(struct console *con)
{
	wint_t wc;
	int r = wget_wch(stdscr, &wc);
	if (r == ERR)
		return -1;
	if (r == KEY_CODE_YES) {
		int k = (int)wc;
		if (k == KEY_MOUSE) {
			if (getmouse(&con->last_mouse) != OK)
				return -1;
		} else if (k == KEY_RESIZE) {
			con->rows = LINES;
			con->cols = COLS;
			con->dirty = true;
			fit_panels();
			draw(con);
		}
		return k;
	}
	int c = (int)wc;
	return c < KEY_MIN ? c : (c | CON_WCHAR);
}

static bool stdin_ready;

static void on_stdin(void *opaque, int fd, short revents)
{
	stdin_ready = true;
}

int con_getkey_timeout(struct console *con, int timeout_ms)
{
	uint64_t until = timeout_ms >= 0 ? loop_now_ms() + (uint64_t)timeout_ms : 0;
	for (;;) {
		draw(con);
		int k = read_key(con);
		if (k >= 0)
			return k;
		if (con->in_main && con->wake_main) {
			con->wake_main = false;
			return CON_KEY_WAKE;
		}
		stdin_ready = false;
		int wait = -1;
		if (timeout_ms >= 0) {
			uint64_t now = loop_now_ms();
			if (now >= until)
				return ERR;
			wait = (int)(until - now);
		}
		loop_once(con->loop, wait);
	}
}

int con_getkey(struct console *con)
{
	return con_getkey_timeout(con, -1);
}

/* --- osio commands ---------------------------------------------------------------------- */

struct wait_job {
	bool done;
	int status;
	char *out;
	size_t outlen;
};

static void wait_done(void *opaque, int status, const char *output)
{
	struct wait_job *w = opaque;
	w->done = true;
	w->status = status;
	if (w->out && w->outlen)
		snprintf(w->out, w->outlen, "%s", output);
}

int con_run_osio(struct console *con, const char *title, const char *const *args, char *out,
		 size_t outlen)
{
	char buf[JOB_OUTPUT_MAX];
	struct wait_job w = { .out = out ? out : buf, .outlen = out ? outlen : sizeof(buf) };
	int r = job_start(con->loop, args, wait_done, &w, NULL);
	if (r < 0) {
		dlg_message(con, title, "Could not run osio %s: %s", args[0], strerror(-r));
		return r;
	}
	struct dlg_progress *p = dlg_progress_open(con, title, "Working...");
	while (!w.done)
		(void)con_getkey_timeout(con, 100), dlg_progress_set(p, -1, NULL);
	dlg_progress_close(p);
	con->dirty = true;
	if (w.status != 0)
		dlg_message(con, title, "%s", w.out[0] ? w.out : "The command failed.");
	return w.status;
}

struct bg_job {
	struct bg_job *next;
	struct console *con;
	char vm[65];
	char title[64];
};

/* The background commands still running: job_kill_all ends them at exit
 * without their bg_done, and bg_free_all frees them then. */
static struct bg_job *bg_jobs;

static void bg_unlink(struct bg_job *b)
{
	for (struct bg_job **pp = &bg_jobs; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			return;
		}
	}
}

static void bg_free_all(void)
{
	while (bg_jobs) {
		struct bg_job *b = bg_jobs;
		bg_jobs = b->next;
		free(b);
	}
}

static void bg_done(void *opaque, int status, const char *output)
{
	struct bg_job *b = opaque;
	struct console *con = b->con;
	bg_unlink(b);
	/* Another command still at work on the VM (Turn Off during a Shut
	 * Down) keeps it busy with its own status. */
	bool others = false;
	for (struct bg_job *o = bg_jobs; o && b->vm[0]; o = o->next)
		others |= strcmp(o->vm, b->vm) == 0;
	if (b->vm[0] && !others) {
		model_set_busy(&con->model, b->vm, false);
		model_set_status(&con->model, b->vm, "");
	}
	if (b->vm[0])
		monitor_refresh(con->mon, b->vm);
	if (status != 0) {
		/* Shown by the main loop, not from inside whatever dialog the
		 * user is in now. */
		char line[200];
		snprintf(line, sizeof(line), "%s%s%s failed", b->title, b->vm[0] ? " of " : "", b->vm);
		con_say(con, "%s", line);
		run_queue_message(con, line, output[0] ? output : "The command failed.");
		if (b->vm[0]) {
			const char *last = strrchr(output, '\n');
			char st[MODEL_STATUS_MAX];
			snprintf(st, sizeof(st), "%s failed: %s", b->title, last ? last + 1 : output);
			model_set_status(&con->model, b->vm, st);
		}
	} else {
		con_say(con, "%s%s%s: done", b->title, b->vm[0] ? " of " : "", b->vm);
	}
	con->dirty = true;
	free(b);
}

int con_run_osio_bg(struct console *con, const char *vm, const char *status,
		    const char *const *args)
{
	struct bg_job *b = calloc(1, sizeof(*b));
	if (!b) {
		dlg_message(con, "Out of memory", "Could not run osio %s.", args[0]);
		return -ENOMEM;
	}
	b->con = con;
	snprintf(b->vm, sizeof(b->vm), "%s", vm ? vm : "");
	/* "start" -> "Start" for "Start of web failed". */
	snprintf(b->title, sizeof(b->title), "%s", args[0]);
	if (b->title[0] >= 'a' && b->title[0] <= 'z')
		b->title[0] = (char)(b->title[0] - 'a' + 'A');
	int r = job_start(con->loop, args, bg_done, b, NULL);
	if (r < 0) {
		dlg_message(con, b->title, "Could not run osio %s: %s", args[0], strerror(-r));
		free(b);
		return r;
	}
	b->next = bg_jobs;
	bg_jobs = b;
	if (vm) {
		model_set_busy(&con->model, vm, true);
		model_set_status(&con->model, vm, status);
	}
	con_say(con, "%s%s%s", status, vm ? " " : "", vm ? vm : "");
	return 0;
}

int con_run_foreground(struct console *con, const char *const *argv)
{
	def_prog_mode();
	endwin();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		reset_prog_mode();
		con->dirty = true;
		return -e;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "osio console: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* The terminal's Ctrl-C goes to the program, not to the console. */
	void (*old_int)(int) = signal(SIGINT, SIG_IGN);
	void (*old_quit)(int) = signal(SIGQUIT, SIG_IGN);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	signal(SIGINT, old_int);
	signal(SIGQUIT, old_quit);
	reset_prog_mode();
	clearok(curscr, TRUE);
	con->dirty = true;
	draw(con);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- start and end ---------------------------------------------------------------------- */

static void console_usage(FILE *f)
{
	fprintf(f, "usage: osio [console]\n\n"
		   "Opens the osio console: the VMs of the store with their state, CPU, memory\n"
		   "and screen, and every action on them (new VM, start, connect, settings,\n"
		   "checkpoints, virtual switches). Press ? in it for its keys.\n\n"
		   "environment:\n"
		   "  OSIO_STORE_DIR    the VM store (default $XDG_DATA_HOME/osio, /var/lib/osio as root)\n"
		   "  OSIO_VNC_VIEWER   a VNC viewer command for Connect (%%s: the address)\n"
		   "  NO_COLOR          draw without colours\n");
}

static void setup_terminal(struct console *con)
{
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	/* Home and End as terminals inside tmux and screen send them, when the
	 * TERM given does not say so (xterm-256color in tmux is common). */
	static const struct {
		const char *seq;
		int key;
	} extra[] = {
		{ "\033[1~", KEY_HOME }, { "\033[7~", KEY_HOME }, { "\033[H", KEY_HOME },
		{ "\033OH", KEY_HOME },  { "\033[4~", KEY_END },  { "\033[8~", KEY_END },
		{ "\033[F", KEY_END },	  { "\033OF", KEY_END },
	};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (key_defined(extra[i].seq) == 0)
			define_key(extra[i].seq, extra[i].key);
	const char *nc = getenv("NO_COLOR");
	con->colour = has_colors() && !(nc && nc[0]);
	if (con->colour) {
		start_color();
		use_default_colors();
	}
	con->colours = con->colour ? COLORS : 0;
	/* ncurses' direct-colour terminfo entries (xterm-direct, ...) say RGB. */
	con->truecolour = con->colour && COLORS >= 0x1000000;
	theme_init(con->colour);
	con->mouse = mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON1_PRESSED |
				       BUTTON1_RELEASED | BUTTON4_PRESSED | BUTTON5_PRESSED,
			       NULL) != 0;
	mouseinterval(200);
	con->rows = LINES;
	con->cols = COLS;
}

int console_main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		console_usage(stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "osio console: unexpected argument '%s'\n", argv[1]);
		console_usage(stderr);
		return 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "osio console: needs a terminal (stdin and stdout); for scripts, use "
				"'osio list' and the other commands (osio help)\n");
		return 1;
	}
	setlocale(LC_ALL, "");
	char store[4096];
	int r = store_path(store, sizeof(store), "vms");
	if (r < 0) {
		fprintf(stderr, "osio console: cannot find the VM store: %s\n",
			store_path_problem(r));
		return 1;
	}
	const char *tp = getenv("OSIO_CONSOLE_TRACE");
	if (tp && tp[0]) {
		trace_file = fopen(tp, "we");
		trace_t0 = now_us();
	}

	static struct console con;
	model_init(&con.model);
	con.loop = loop_new();
	if (!con.loop) {
		fprintf(stderr, "osio console: out of memory\n");
		return 1;
	}
	con.unicode = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if (!initscr()) {
		fprintf(stderr, "osio console: cannot set up the terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		return 1;
	}
	setup_terminal(&con);
	loop_watch(con.loop, STDIN_FILENO, POLLIN, on_stdin, &con);

	char err[512] = "";
	r = monitor_start(con.loop, monitor_changed, &con, &con.mon, err, sizeof(err));
	con.dirty = true;
	if (r < 0)
		dlg_message(&con, "The VM list cannot be shown",
			    "%s\n\nThe console keeps running; fix this and press F5.", err);
	else
		con_say(&con, "Press ? for help, Tab to move between panes, q to quit.");

	run_main(&con);

	job_kill_all();
	bg_free_all();
	thumb_close(con.thumb);
	monitor_stop(con.mon);
	endwin();
	model_free(&con.model);
	loop_free(con.loop);
	if (trace_file)
		fclose(trace_file);
	return 0;
}
