/* The New Virtual Hard Disk wizard (format, type, location, size; progress
 * while `osio disk create` runs) and Edit Disk (inspect, expand, convert,
 * check an image with `osio disk info/resize/convert/check`). */
#include "console/console.h"
#include "console/dialogs.h"
#include "console/jobs.h"
#include "console/newvm.h"
#include "console/widgets.h"

#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { BTN_BACK, BTN_NEXT, BTN_FINISH, BTN_CANCEL };
static const char *const buttons[] = {"< Back", "Next >", "Finish", "Cancel"};

#define DISK_PAGES    5 /* format, type, location, size, summary */
#define DISK_PATTERNS "*.vhdx,*.avhdx,*.vhd,*.qcow2,*.img,*.raw"
#define KEY_ESC	      27

static const char *const page_titles[DISK_PAGES] = {"Choose Disk Format", "Choose Disk Type",
						    "Specify Name and Location", "Configure Disk",
						    "Summary"};
static const char *const format_items[NEWDISK_FORMATS] = {
    "VHDX: Hyper-V's format, up to 64 TB, resilient to power failures",
    "VHD: the older Virtual PC / Hyper-V format, up to 2 TB",
    "qcow2: QEMU's format",
    "Raw image (.img): the disk byte for byte, no metadata",
};
static const char *const type_items[] = {
    "Dynamically expanding: the file grows as the guest writes",
    "Fixed size: all space allocated now",
    "Differencing: only the changes to a parent disk",
};
static const char *const conv_types[] = {"dynamic", "fixed"};
static const char *const conv_formats[NEWDISK_FORMATS] = {"VHDX", "VHD", "qcow2", "raw"};

struct dwiz {
	struct console *con;
	struct newdisk d;
	int page;
	char title[96];
	char text[3 * PATH_MAX + 512];
	struct field fields[4];
	unsigned nfields;
};

/* Replaces a disk image extension at the end of name (or adds one). */
static void set_ext(char *name, size_t size, const char *ext)
{
	static const char *const known[] = {".vhdx", ".avhdx", ".vhd", ".qcow2", ".img", ".raw"};
	size_t l = strlen(name);

	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t k = strlen(known[i]);
		if (l > k && strcmp(name + l - k, known[i]) == 0) {
			name[l - k] = '\0';
			break;
		}
	}
	l = strlen(name);
	snprintf(name + l, size - l, ".%s", ext);
}

static struct field *add(struct dwiz *z, enum field_type type, const char *label)
{
	struct field *f = &z->fields[z->nfields++];

	memset(f, 0, sizeof(*f));
	f->type = type;
	f->label = label;
	return f;
}

static void update_enabled(struct dwiz *z)
{
	if (z->page == 1)
		z->fields[1].disabled = z->d.type != NEWDISK_DIFFERENCING;
}

static void build_page(struct dwiz *z)
{
	struct newdisk *d = &z->d;
	struct field *f;

	z->nfields = 0;
	snprintf(z->title, sizeof(z->title), "New Virtual Hard Disk - %s (%d of %d)",
		 page_titles[z->page], z->page + 1, DISK_PAGES);
	z->text[0] = '\0';
	switch (z->page) {
	case 0:
		snprintf(z->text, sizeof(z->text),
			 "Choose the format of the new virtual hard disk.");
		f = add(z, FIELD_RADIO, "");
		f->items = format_items;
		f->nitems = NEWDISK_FORMATS;
		f->choice = &d->format;
		break;
	case 1:
		snprintf(z->text, sizeof(z->text),
			 "Choose the type of disk. A dynamic disk takes host space only as it is "
			 "written; a fixed one takes it all now; a differencing disk records only "
			 "what differs from its parent (which must then stay unchanged).");
		f = add(z, FIELD_RADIO, "");
		f->items = type_items;
		f->nitems = 3;
		f->choice = &d->type;
		f = add(z, FIELD_FILE, "  Parent disk:");
		f->buf = d->parent;
		f->size = sizeof(d->parent);
		f->patterns = DISK_PATTERNS;
		f->help = "The disk this one records the changes to";
		break;
	case 2:
		snprintf(z->text, sizeof(z->text),
			 "Name the new disk's file and choose the folder it goes in.");
		f = add(z, FIELD_TEXT, "Name:");
		f->buf = d->name;
		f->size = sizeof(d->name);
		f->help = "The file's name, e.g. data.vhdx";
		f = add(z, FIELD_FILE, "Location:");
		f->buf = d->dir;
		f->size = sizeof(d->dir);
		f->dirs_only = true;
		f->help = "The folder the new disk goes in";
		break;
	case 3:
		snprintf(z->text, sizeof(z->text), "%s",
			 d->type == NEWDISK_DIFFERENCING
			     ? "The size the guest sees. Leave it empty to take the parent's size."
			     : "The size the guest sees, with a unit: 40G, 100G, 1T.");
		f = add(z, FIELD_TEXT, "Size:");
		f->buf = d->size;
		f->size = sizeof(d->size);
		f->help = "e.g. 40G";
		break;
	case 4: {
		static const char *const types[] = {"dynamic", "fixed", "differencing"};
		newdisk_create_args(d, (const char *[16]){0}, 16);
		snprintf(z->text, sizeof(z->text),
			 "You are about to create this virtual hard disk:\n\nFile: %s\nFormat: "
			 "%s\nType: %s%s%s\nSize: %s",
			 d->path, newdisk_format_name(d->format), types[d->type % 3],
			 d->type == NEWDISK_DIFFERENCING ? ", parent " : "",
			 d->type == NEWDISK_DIFFERENCING ? d->parent : "",
			 d->size[0] ? d->size : "the parent's");
		add(z, FIELD_LABEL, "Press Finish to create it.");
		break;
	}
	}
	update_enabled(z);
}

static void form_changed(struct form *f, int field, void *opaque)
{
	(void)f;
	(void)field;
	update_enabled(opaque);
}

static int form_validate(struct form *f, int button, char *why, size_t whylen, int *bad,
			 void *opaque)
{
	struct dwiz *z = opaque;
	(void)f;

	if (button == BTN_BACK) {
		if (z->page == 0) {
			snprintf(why, whylen, "This is the first page.");
			return 1;
		}
		return 0;
	}
	if (button == BTN_NEXT && z->page == DISK_PAGES - 1) {
		snprintf(why, whylen, "This is the last page: press Finish to create the disk.");
		return 1;
	}
	if (z->page < DISK_PAGES - 1 && newdisk_check_page(&z->d, z->page, why, whylen) < 0) {
		*bad = (z->page == 1 && z->d.type == NEWDISK_DIFFERENCING) ||
		       (z->page == 2 && strncmp(why, "Folder", 6) == 0);
		return 1;
	}
	return 0;
}

struct create_job {
	bool done;
	int status;
	char out[JOB_OUTPUT_MAX];
};

static void create_done(void *opaque, int status, const char *output)
{
	struct create_job *j = opaque;

	j->done = true;
	j->status = status;
	snprintf(j->out, sizeof(j->out), "%s", output);
}

/* Runs `osio disk create` with a progress box: the file's allocated bytes
 * against the size for a fixed disk, a spinner otherwise. Esc stops it. */
static bool create_disk(struct console *con, struct newdisk *d)
{
	const char *args[16];
	struct create_job *j = calloc(1, sizeof(*j));
	uint64_t size = 0;
	char text[PATH_MAX + 400];
	bool stopped = false;
	pid_t pid = 0;
	int r;

	if (!j) {
		dlg_message(con, "New Virtual Hard Disk", "Out of memory.");
		return false;
	}
	newdisk_create_args(d, args, 16);
	if (d->type == NEWDISK_FIXED && vmconfig_parse_size(d->size, &size, NULL, 0) < 0)
		size = 0;
	r = job_start(con->loop, args, create_done, j, &pid);
	if (r < 0) {
		dlg_message(con, "New Virtual Hard Disk", "Could not run osio disk create: %s",
			    strerror(-r));
		free(j);
		return false;
	}
	snprintf(text, sizeof(text), "Creating %s (Esc stops)", d->path);
	struct dlg_progress *p = dlg_progress_open(con, "New Virtual Hard Disk", text);
	while (!j->done) {
		int k = con_getkey_timeout(con, 200);
		if (k == KEY_ESC && !stopped &&
		    dlg_confirm(con, "New Virtual Hard Disk", "Stop",
				"Stop creating %s? Nothing is kept.", d->path) &&
		    !j->done) {
			kill(pid, SIGTERM);
			stopped = true;
		}
		double frac = -1;
		struct stat st;
		if (size && stat(d->path, &st) == 0) {
			frac = (double)st.st_blocks * 512.0 / (double)size;
			if (frac > 1)
				frac = 1;
		}
		dlg_progress_set(p, frac, NULL);
	}
	dlg_progress_close(p);
	con_dirty(con);
	bool ok = j->status == 0;
	if (!ok && !stopped)
		dlg_message(con, "New Virtual Hard Disk", "%s",
			    j->out[0] ? j->out : "osio disk create failed.");
	else if (ok)
		con_say(con, "Created %s", d->path);
	free(j);
	return ok;
}

bool wizard_new_disk(struct console *con, const char *start_dir, char *out, unsigned outlen)
{
	struct dwiz *z = calloc(1, sizeof(*z));
	char why[1024];
	bool made = false;

	if (!z) {
		dlg_message(con, "New Virtual Hard Disk", "Out of memory.");
		return false;
	}
	z->con = con;
	newdisk_init(&z->d, start_dir);
	for (;;) {
		struct form f = {
		    .title = z->title,
		    .text = z->text,
		    .fields = z->fields,
		    .buttons = buttons,
		    .nbuttons = 4,
		    .default_button = z->page == DISK_PAGES - 1 ? BTN_FINISH : BTN_NEXT,
		    .cancel_button = BTN_CANCEL,
		    .validate = form_validate,
		    .changed = form_changed,
		    .opaque = z,
		    .width = 76,
		};
		build_page(z);
		f.nfields = z->nfields;
		int b = dlg_form(con, &f);
		if (z->page == 0)
			set_ext(z->d.name, sizeof(z->d.name), newdisk_format_ext(z->d.format));
		if (b == BTN_BACK && z->page > 0) {
			z->page--;
		} else if (b == BTN_NEXT && z->page + 1 < DISK_PAGES) {
			z->page++;
		} else if (b == BTN_FINISH) {
			int bad = -1;
			for (int p = 0; p < DISK_PAGES - 1 && bad < 0; p++)
				if (newdisk_check_page(&z->d, p, why, sizeof(why)) < 0)
					bad = p;
			if (bad >= 0) {
				z->page = bad;
				dlg_message(con, "New Virtual Hard Disk", "%s", why);
				continue;
			}
			made = create_disk(con, &z->d);
			if (made) {
				if (out && outlen)
					snprintf(out, outlen, "%s", z->d.path);
				break;
			}
			z->page = DISK_PAGES - 1;
		} else if (b == BTN_CANCEL || b < 0) {
			break;
		}
	}
	free(z);
	return made;
}

/* --- Edit Disk ----------------------------------------------------------------- */

static int check_resize(const char *value, char *why, size_t whylen, void *opaque)
{
	return diskinfo_check_resize(opaque, value, why, whylen) < 0 ? 1 : 0;
}

static void expand(struct console *con, const char *path, const struct diskinfo *in)
{
	char size[32] = "", *out;
	const char *args[] = {"disk", "resize", path, size, NULL};

	if (!dlg_input(con, "Expand Virtual Hard Disk",
		       "New size (e.g. 60G), or +SIZE to add (e.g. +20G). The guest's partitions "
		       "are not grown.",
		       size, sizeof(size), check_resize, (void *)in))
		return;
	out = malloc(JOB_OUTPUT_MAX);
	if (con_run_osio(con, "Expand Virtual Hard Disk", args, out, out ? JOB_OUTPUT_MAX : 0) == 0)
		dlg_message(con, "Expand Virtual Hard Disk", "%s", out ? out : "Done.");
	free(out);
}

struct conv {
	char dst[PATH_MAX];
	int format, type;
	int last_format;
};

static void conv_changed(struct form *f, int field, void *opaque)
{
	struct conv *c = opaque;
	(void)f;
	(void)field;
	if (c->format != c->last_format) {
		set_ext(c->dst, sizeof(c->dst), newdisk_format_ext(c->format));
		c->last_format = c->format;
	}
}

static int conv_validate(struct form *f, int button, char *why, size_t whylen, int *bad,
			 void *opaque)
{
	struct conv *c = opaque;
	struct stat st;
	(void)f;

	if (button != 0)
		return 0;
	*bad = 0;
	if (!c->dst[0]) {
		snprintf(why, whylen, "Give the new disk's file.");
		return 1;
	}
	if (lstat(c->dst, &st) == 0) {
		snprintf(why, whylen, "%s exists already; choose another name.", c->dst);
		return 1;
	}
	return 0;
}

static void convert(struct console *con, const char *path, const struct diskinfo *in)
{
	static const char *const conv_buttons[] = {"Convert", "Cancel"};
	struct conv *c = calloc(1, sizeof(*c));
	char *out;

	if (!c)
		return;
	snprintf(c->dst, sizeof(c->dst), "%s", path);
	char *dot = strrchr(c->dst, '.');
	if (dot && !strchr(dot, '/'))
		*dot = '\0';
	size_t l = strlen(c->dst);
	snprintf(c->dst + l, sizeof(c->dst) - l, "-converted");
	c->format = NEWDISK_VHDX;
	for (int i = 0; i < NEWDISK_FORMATS; i++)
		if (strcmp(in->format, newdisk_format_name(i)) == 0)
			c->format = i;
	c->last_format = c->format;
	set_ext(c->dst, sizeof(c->dst), newdisk_format_ext(c->format));

	struct field fields[3] = {
	    {.type = FIELD_FILE,
	     .label = "New disk:",
	     .buf = c->dst,
	     .size = sizeof(c->dst),
	     .patterns = DISK_PATTERNS,
	     .allow_new = true,
	     .help = "The converted copy: a new file"},
	    {.type = FIELD_CHOICE,
	     .label = "Format:",
	     .items = conv_formats,
	     .nitems = NEWDISK_FORMATS,
	     .choice = &c->format},
	    {.type = FIELD_CHOICE,
	     .label = "Type:",
	     .items = conv_types,
	     .nitems = 2,
	     .choice = &c->type},
	};
	struct form f = {
	    .title = "Convert Virtual Hard Disk",
	    .text = "Copies the disk, as the guest sees it (its parents read through), into a new "
		    "disk of the format and type chosen. The original stays as it is.",
	    .fields = fields,
	    .nfields = 3,
	    .buttons = conv_buttons,
	    .nbuttons = 2,
	    .default_button = 0,
	    .cancel_button = 1,
	    .validate = conv_validate,
	    .changed = conv_changed,
	    .opaque = c,
	};
	if (dlg_form(con, &f) == 0) {
		const char *full[] = {"disk",	"convert",	     path,
				      c->dst,	"--format",	     newdisk_format_name(c->format),
				      "--type", conv_types[c->type], NULL};
		out = malloc(JOB_OUTPUT_MAX);
		if (con_run_osio(con, "Convert Virtual Hard Disk", full, out,
				 out ? JOB_OUTPUT_MAX : 0) == 0)
			dlg_message(con, "Convert Virtual Hard Disk", "Converted into %s.", c->dst);
		free(out);
	}
	free(c);
}

static void check(struct console *con, const char *path)
{
	const char *args[] = {"disk", "check", path, NULL};
	char *out = malloc(JOB_OUTPUT_MAX);

	if (con_run_osio(con, "Check Virtual Hard Disk", args, out, out ? JOB_OUTPUT_MAX : 0) == 0)
		dlg_message(con, "Check Virtual Hard Disk", "%s",
			    out && out[0] ? out : "No errors found.");
	free(out);
}

void wizard_edit_disk(struct console *con)
{
	static const char *const actions[] = {"Expand...", "Convert...", "Check", "Close"};
	char path[PATH_MAX], why[512];
	char *out = malloc(JOB_OUTPUT_MAX), *text = malloc(PATH_MAX * 2 + 1024);
	struct diskinfo *in = malloc(sizeof(*in));

	if (!out || !text || !in) {
		dlg_message(con, "Edit Virtual Hard Disk", "Out of memory.");
		goto out;
	}
	if (!dlg_file(con, "Edit Virtual Hard Disk - Locate Disk", NULL, DISK_PATTERNS, false,
		      false, path, sizeof(path)))
		goto out;
	for (;;) {
		const char *args[] = {"disk", "info", path, "--json", NULL};
		if (con_run_osio(con, "Edit Virtual Hard Disk", args, out, JOB_OUTPUT_MAX) != 0)
			break;
		if (diskinfo_parse(out, in, why, sizeof(why)) < 0) {
			dlg_message(con, "Edit Virtual Hard Disk", "%s: %s", path, why);
			break;
		}
		diskinfo_format(in, path, text, PATH_MAX * 2 + 1024);
		struct field label = {.type = FIELD_LABEL,
				      .label = "Expand grows it, Convert copies it into another "
					       "format, Check looks for damage."};
		struct form f = {
		    .title = "Edit Virtual Hard Disk",
		    .text = text,
		    .fields = &label,
		    .nfields = 1,
		    .buttons = actions,
		    .nbuttons = 4,
		    .default_button = 3,
		    .cancel_button = 3,
		};
		int b = dlg_form(con, &f);
		if (b == 0)
			expand(con, path, in);
		else if (b == 1)
			convert(con, path, in);
		else if (b == 2)
			check(con, path);
		else
			break;
	}
out:
	free(in);
	free(text);
	free(out);
}
