/* The console's colours (theme.h): one colour pair per role, chosen to read
 * on dark and light terminals alike, and a monochrome attribute for every
 * role when the terminal has no colours or $NO_COLOR is set. */
#include "console/theme.h"

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#define DEFAULT_COLOUR (-1)

struct theme_def {
	short fg, bg;	 /* DEFAULT_COLOUR: the terminal's own */
	short fg256;	 /* with 256 colours: a better foreground (0: fg) */
	int colour_attr; /* video attributes added to the pair */
	int mono;	 /* the attribute without colours */
};

/* The colours: a Norton-like blue key bar, the title in cyan, frames in
 * the terminal's colour, the focused frame cyan, selection white on blue. */
static const struct theme_def defs[TH_COUNT] = {
    [TH_NORMAL] = {DEFAULT_COLOUR, DEFAULT_COLOUR, 0, 0, A_NORMAL},
    [TH_TITLE] = {COLOR_BLACK, COLOR_CYAN, 0, 0, A_REVERSE},
    [TH_BORDER] = {DEFAULT_COLOUR, DEFAULT_COLOUR, 244, 0, A_NORMAL},
    [TH_FOCUS_BORDER] = {COLOR_CYAN, DEFAULT_COLOUR, 0, A_BOLD, A_BOLD},
    [TH_SELECTED] = {COLOR_WHITE, COLOR_BLUE, 0, A_BOLD, A_REVERSE},
    [TH_SELECTED_DIM] = {COLOR_BLACK, COLOR_WHITE, 0, 0, A_UNDERLINE},
    [TH_HEADER] = {DEFAULT_COLOUR, DEFAULT_COLOUR, 0, A_BOLD, A_BOLD},
    [TH_DISABLED] = {DEFAULT_COLOUR, DEFAULT_COLOUR, 244, A_DIM, A_DIM},
    [TH_KEY] = {COLOR_YELLOW, COLOR_BLUE, 0, A_BOLD, A_BOLD | A_UNDERLINE},
    [TH_BAR] = {COLOR_WHITE, COLOR_BLUE, 0, 0, A_NORMAL},
    [TH_STATUS] = {DEFAULT_COLOUR, DEFAULT_COLOUR, 0, 0, A_NORMAL},
    [TH_DIALOG] = {COLOR_BLACK, COLOR_WHITE, 0, 0, A_NORMAL},
    [TH_DIALOG_TITLE] = {COLOR_BLUE, COLOR_WHITE, 0, A_BOLD, A_BOLD},
    [TH_FIELD] = {COLOR_BLACK, COLOR_CYAN, 0, 0, A_UNDERLINE},
    [TH_FIELD_FOCUS] = {COLOR_WHITE, COLOR_BLUE, 0, A_BOLD, A_REVERSE},
    [TH_BUTTON] = {COLOR_BLACK, COLOR_WHITE, 0, A_BOLD, A_BOLD},
    [TH_ERROR] = {COLOR_RED, DEFAULT_COLOUR, 0, A_BOLD, A_BOLD},
    [TH_STATE_RUNNING] = {COLOR_GREEN, DEFAULT_COLOUR, 0, A_BOLD, A_BOLD},
    [TH_STATE_OFF] = {DEFAULT_COLOUR, DEFAULT_COLOUR, 0, 0, A_NORMAL},
    [TH_STATE_PAUSED] = {COLOR_YELLOW, DEFAULT_COLOUR, 0, 0, A_UNDERLINE},
    [TH_STATE_CRASHED] = {COLOR_RED, DEFAULT_COLOUR, 0, A_BOLD, A_BOLD | A_UNDERLINE},
};

static int attrs[TH_COUNT];
static bool ready;

static void init_mono(void)
{
	for (int r = 0; r < TH_COUNT; r++)
		attrs[r] = defs[r].mono;
}

void theme_init(bool colour)
{
	init_mono();
	ready = true;
	if (!colour || !has_colors())
		return;
	if (start_color() == ERR)
		return;
	bool defaults = use_default_colors() == OK;
	/* Pairs of our own, numbered from 1 with init_pair: alloc_pair (the
	 * thumbnail's many colours) never recycles pairs made that way. */
	for (int r = 0; r < TH_COUNT; r++) {
		short fg = defs[r].fg, bg = defs[r].bg;
		if (COLORS >= 256 && defs[r].fg256)
			fg = defs[r].fg256;
		if (!defaults) {
			if (fg == DEFAULT_COLOUR)
				fg = COLOR_WHITE;
			if (bg == DEFAULT_COLOUR)
				bg = COLOR_BLACK;
		}
		int pair = r + 1;
		if (pair >= COLOR_PAIRS || init_pair((short)pair, fg, bg) == ERR)
			continue; /* this role stays monochrome */
		attrs[r] = (int)COLOR_PAIR(pair) | defs[r].colour_attr;
	}
	/* The terminal's own colours need no pair. */
	if (defaults)
		attrs[TH_NORMAL] = A_NORMAL;
}

int theme_attr(enum theme_role role)
{
	if (!ready)
		init_mono();
	ready = true;
	if ((unsigned)role >= TH_COUNT)
		return A_NORMAL;
	return attrs[role];
}
