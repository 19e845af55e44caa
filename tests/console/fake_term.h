/* The console tests' curses on a terminal that goes nowhere (/dev/null, a
 * UTF-8 locale, a terminfo entry by name), and what a cell of a window
 * holds. Include after cmocka.h. */
#ifndef OSIO_TESTS_CONSOLE_FAKE_TERM_H
#define OSIO_TESTS_CONSOLE_FAKE_TERM_H

#include "console/console.h"

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

struct fake_term {
	SCREEN *s;
	FILE *out, *in;
};

static inline void end_terminal(struct fake_term *t)
{
	if (t->s) {
		endwin();
		delscreen(t->s);
	}
	if (t->out)
		fclose(t->out);
	if (t->in)
		fclose(t->in);
	*t = (struct fake_term){0};
}

/* false (all closed) when the terminal type or a UTF-8 locale is missing,
 * or it has fewer than min_colours. */
static inline bool fake_terminal(struct fake_term *t, const char *term, int min_colours)
{
	*t = (struct fake_term){0};
	if (!setlocale(LC_ALL, "C.UTF-8"))
		return false;
	t->out = fopen("/dev/null", "w");
	t->in = fopen("/dev/null", "r");
	if (t->out && t->in) {
#ifdef __SANITIZE_ADDRESS__
		__lsan_disable(); /* newterm's own allocations outlive delscreen */
#endif
		t->s = newterm(term, t->out, t->in);
#ifdef __SANITIZE_ADDRESS__
		__lsan_enable();
#endif
	}
	if (t->s && min_colours)
		start_color();
	if (!t->s || COLORS < min_colours) {
		end_terminal(t);
		return false;
	}
	return true;
}

/* The character and the (extended) colour pair of cell (y, x) of w. */
static inline void cell_at(WINDOW *w, int y, int x, wchar_t *wc, int *pair)
{
	cchar_t cc;
	attr_t attrs;
	short p;
	wchar_t buf[CCHARW_MAX + 1];
	assert_int_equal(mvwin_wch(w, y, x, &cc), OK);
	*pair = 0;
	assert_int_equal(getcchar(&cc, buf, &attrs, &p, pair), OK);
	*wc = buf[0];
}

#endif
