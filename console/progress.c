/* dlg_progress: a box with a line of text and a bar (or a spinner while the
 * end is unknown), drawn at once and at each update, with no key awaited. */
#include "console/dlgbox.h"
#include "console/lineedit.h"
#include "console/theme.h"
#include "console/widgets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_WIDTH 60

struct dlg_progress {
	struct console *con;
	struct dlgbox b;
	char title[128];
	char text[256];
	double fraction;
	unsigned tick;	/* spinner position */
	int old_cursor; /* the cursor's visibility before */
};

static void progress_draw(struct dlg_progress *p)
{
	WINDOW *w;
	int iw, bar, fill, a;

	dlgbox_place(&p->b, 6, PROGRESS_WIDTH);
	w = p->b.win;
	iw = p->b.w - 4;
	dlgbox_frame(&p->b, p->title);
	dlg_put(w, 1, 2, p->text, iw, theme_attr(TH_DIALOG));
	a = theme_attr(TH_DIALOG);
	if (p->fraction >= 0) {
		char pct[8];
		double f = p->fraction > 1 ? 1 : p->fraction;

		snprintf(pct, sizeof(pct), "%3d%%",
			 (int)(f * 100 + 0.5) > 100 ? 100 : (int)(f * 100));
		bar = iw - 7;
		if (bar < 1)
			bar = 1;
		fill = (int)(f * bar + 0.5);
		dlg_put(w, 3, 2, "[", 1, a);
		for (int i = 0; i < bar; i++)
			dlg_put(w, 3, 3 + i, i < fill ? (p->con->unicode ? "\u2588" : "#") : " ", 1,
				a);
		dlg_put(w, 3, 3 + bar, "]", 1, a);
		dlg_put(w, 3, 3 + bar + 2, pct, 4, a);
	} else {
		/* A block going back and forth along the bar. */
		int width = iw - 2, blk = 4, span, pos;

		if (width < blk + 1)
			width = blk + 1;
		span = width - blk;
		pos = (int)(p->tick % (unsigned)(2 * span));
		if (pos > span)
			pos = 2 * span - pos;
		dlg_put(w, 3, 2, "[", 1, a);
		for (int i = 0; i < width; i++) {
			bool on = i >= pos && i < pos + blk;

			dlg_put(w, 3, 3 + i, on ? (p->con->unicode ? "\u2588" : "=") : " ", 1, a);
		}
		dlg_put(w, 3, 3 + width, "]", 1, a);
	}
	update_panels();
	doupdate();
}

struct dlg_progress *dlg_progress_open(struct console *con, const char *title, const char *text)
{
	struct dlg_progress *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->con = con;
	p->fraction = -1;
	snprintf(p->title, sizeof(p->title), "%s", title ? title : "");
	snprintf(p->text, sizeof(p->text), "%s", text ? text : "");
	if (dlgbox_open(&p->b, con, 6, PROGRESS_WIDTH)) {
		free(p);
		return NULL;
	}
	p->old_cursor = curs_set(0);
	progress_draw(p);
	return p;
}

void dlg_progress_set(struct dlg_progress *p, double fraction, const char *text)
{
	if (!p)
		return;
	p->fraction = fraction;
	if (fraction < 0)
		p->tick++;
	if (text)
		snprintf(p->text, sizeof(p->text), "%s", text);
	progress_draw(p);
}

void dlg_progress_close(struct dlg_progress *p)
{
	if (!p)
		return;
	curs_set(p->old_cursor < 0 ? 0 : p->old_cursor);
	dlgbox_close(&p->b);
	free(p);
}
