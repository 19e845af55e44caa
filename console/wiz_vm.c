/* The New Virtual Machine wizard, page by page like Hyper-V's: each page a
 * form, checked (newvm.c) before Next; Finish runs `osio create` (and
 * `osio start`) and selects the new VM. */
#include "console/console.h"
#include "console/dialogs.h"
#include "console/jobs.h"
#include "console/monitor.h"
#include "console/newvm.h"
#include "console/widgets.h"

#include "devices/net/switchdef.h"
#include "hypervisor/store.h"
#include "hypervisor/vmstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BTN_BACK, BTN_NEXT, BTN_FINISH, BTN_CANCEL };
static const char *const buttons[] = {"< Back", "Next >", "Finish", "Cancel"};

#define MAX_FIELDS   10
#define MAX_SWITCHES 64

static const char *const page_titles[NEWVM_PAGE_COUNT] = {
    [NEWVM_PAGE_BEGIN] = "Before You Begin",
    [NEWVM_PAGE_NAME] = "Specify Name and Location",
    [NEWVM_PAGE_GENERATION] = "Specify Generation",
    [NEWVM_PAGE_MEMORY] = "Assign Memory",
    [NEWVM_PAGE_CPUS] = "Assign Processors",
    [NEWVM_PAGE_NETWORK] = "Configure Networking",
    [NEWVM_PAGE_DISK] = "Connect Virtual Hard Disk",
    [NEWVM_PAGE_INSTALL] = "Installation Options",
    [NEWVM_PAGE_SUMMARY] = "Summary",
};

static const char *const nic_items[] = {"e1000 (Intel; every guest has its driver)",
					"virtio (faster; needs virtio drivers)"};
static const char *const bus_items[] = {"IDE", "virtio"};
static const char *const disk_items[] = {"Create a new virtual hard disk",
					 "Use an existing virtual hard disk",
					 "Attach a virtual hard disk later"};
static const char *const install_items[] = {
    "Install an operating system later", "Install an operating system from a bootable image file",
    "Install an operating system from a network-based installation server"};
static const char *const gen_items[] = {"Generation 1: BIOS (SeaBIOS)"};

struct wiz {
	struct console *con;
	struct newvm w;
	int page;
	/* The store's switches, then "Not connected". */
	char *sw_names[MAX_SWITCHES];
	const char *sw_items[MAX_SWITCHES + 1];
	unsigned nsw;
	int sw_choice;
	int generation;
	/* Field index of each newvm_field on the page shown, -1 when not there. */
	int idx[NEWVM_F_ISO + 1];
	/* Texts the pages show. */
	char title[96];
	char text[2048];
	char label[3][PATH_MAX + 96];
	struct field fields[MAX_FIELDS];
	unsigned nfields;
};

static int add_switch(const struct net_switch_cfg *cfg, void *ctx)
{
	struct wiz *z = ctx;

	if (z->nsw >= MAX_SWITCHES)
		return 0;
	z->sw_names[z->nsw] = strdup(cfg->name);
	if (!z->sw_names[z->nsw])
		return -ENOMEM;
	z->sw_items[z->nsw] = z->sw_names[z->nsw];
	z->nsw++;
	return 0;
}

static void load_switches(struct wiz *z)
{
	char err[512];

	if (switchdef_foreach(add_switch, z, err, sizeof(err)) < 0)
		con_say(z->con, "Switches: %s", err);
	z->sw_items[z->nsw] = "Not connected";
	z->sw_choice = (int)z->nsw;
	for (unsigned i = 0; i < z->nsw; i++)
		if (strcmp(z->sw_names[i], z->w.sw) == 0)
			z->sw_choice = (int)i;
}

static void free_switches(struct wiz *z)
{
	for (unsigned i = 0; i < z->nsw; i++)
		free(z->sw_names[i]);
	z->nsw = 0;
}

/* The choices that are indexes on the form into the strings of w. */
static void sync_switch(struct wiz *z)
{
	if (z->sw_choice >= 0 && (unsigned)z->sw_choice < z->nsw)
		snprintf(z->w.sw, sizeof(z->w.sw), "%s", z->sw_names[z->sw_choice]);
	else
		z->w.sw[0] = '\0';
}

static struct field *add(struct wiz *z, enum field_type type, const char *label)
{
	struct field *f = &z->fields[z->nfields++];

	memset(f, 0, sizeof(*f));
	f->type = type;
	f->label = label;
	return f;
}

static void text_field(struct wiz *z, enum newvm_field id, const char *label, char *buf,
		       size_t size, const char *help)
{
	struct field *f = add(z, FIELD_TEXT, label);

	f->buf = buf;
	f->size = size;
	f->help = help;
	z->idx[id] = (int)z->nfields - 1;
}

static void choice_field(struct wiz *z, enum field_type type, const char *label,
			 const char *const *items, unsigned n, int *choice)
{
	struct field *f = add(z, type, label);

	f->items = items;
	f->nitems = n;
	f->choice = choice;
}

/* Enables the fields that belong to the option chosen. */
static void update_enabled(struct wiz *z)
{
	struct newvm *w = &z->w;

	if (z->page == NEWVM_PAGE_DISK) {
		/* radio, name label, size, bus, file */
		z->fields[1].disabled = w->disk != NEWVM_DISK_NEW;
		z->fields[2].disabled = w->disk != NEWVM_DISK_NEW;
		z->fields[3].disabled = w->disk == NEWVM_DISK_LATER;
		z->fields[4].disabled = w->disk != NEWVM_DISK_EXISTING;
	} else if (z->page == NEWVM_PAGE_INSTALL) {
		z->fields[1].disabled = w->install != NEWVM_INSTALL_ISO;
	}
}

static void build_page(struct wiz *z)
{
	struct newvm *w = &z->w;
	char store[PATH_MAX], size[32];

	z->nfields = 0;
	for (unsigned i = 0; i < sizeof(z->idx) / sizeof(z->idx[0]); i++)
		z->idx[i] = -1;
	z->text[0] = '\0';
	snprintf(z->title, sizeof(z->title), "New Virtual Machine - %s (%d of %d)",
		 page_titles[z->page], z->page + 1, NEWVM_PAGE_COUNT);

	switch (z->page) {
	case NEWVM_PAGE_BEGIN:
		snprintf(z->text, sizeof(z->text),
			 "This wizard helps you create a virtual machine. A virtual machine runs "
			 "an operating system and programs like a physical computer: you choose "
			 "its name, memory, processors, network and hard disk, and what to "
			 "install it from.\n\nPress Next to go page by page, or Finish to create "
			 "a virtual machine with the default settings once it has a name and "
			 "an installation image.");
		add(z, FIELD_LABEL, "Press Next > to begin.");
		break;
	case NEWVM_PAGE_NAME:
		snprintf(z->text, sizeof(z->text),
			 "Choose a name for this virtual machine: 1 to 63 letters, digits, '.', "
			 "'_' or '-', starting with a letter or digit. The console lists it by "
			 "this name.");
		text_field(z, NEWVM_F_NAME, "Name:", w->name, sizeof(w->name),
			   "The VM's name, e.g. web or devbox-1");
		if (store_path(store, sizeof(store), "vms") < 0)
			snprintf(store, sizeof(store), "(the VM store cannot be found)");
		snprintf(z->label[0], sizeof(z->label[0]), "Location: %s/%s", store,
			 w->name[0] ? w->name : "NAME");
		add(z, FIELD_LABEL, z->label[0]);
		add(z, FIELD_LABEL, "The VM store holds every VM's files; it is not chosen here.");
		break;
	case NEWVM_PAGE_GENERATION:
		snprintf(z->text, sizeof(z->text),
			 "Choose the generation of this virtual machine. Generation 1 has a BIOS "
			 "(SeaBIOS) and boots from IDE and virtio disks, DVDs and the network.");
		choice_field(z, FIELD_RADIO, "Generation:", gen_items, 1, &z->generation);
		add(z, FIELD_LABEL, "( ) Generation 2: UEFI - not available yet")->disabled = true;
		break;
	case NEWVM_PAGE_MEMORY:
		snprintf(z->text, sizeof(z->text),
			 "Specify the amount of memory for this virtual machine, with a unit: "
			 "512M, 2G, 4G. The VM takes it from the host while it runs.");
		text_field(z, NEWVM_F_MEMORY, "Startup memory:", w->memory, sizeof(w->memory),
			   "A size with a unit: 512M, 2G, 1.5G");
		vmd_format_size(w->host_memory, size, sizeof(size));
		snprintf(z->label[0], sizeof(z->label[0]),
			 "From 32 MiB up to %s (this host's memory).", size);
		add(z, FIELD_LABEL, z->label[0]);
		break;
	case NEWVM_PAGE_CPUS:
		snprintf(z->text, sizeof(z->text),
			 "Specify the number of virtual processors for this virtual machine.");
		text_field(z, NEWVM_F_CPUS, "Virtual processors:", w->cpus, sizeof(w->cpus),
			   "A number of processors");
		snprintf(z->label[0], sizeof(z->label[0]), "From 1 up to %u (this host's CPUs).",
			 w->host_cpus);
		add(z, FIELD_LABEL, z->label[0]);
		break;
	case NEWVM_PAGE_NETWORK:
		snprintf(z->text, sizeof(z->text),
			 "Each virtual machine has a network adapter that can be connected to a "
			 "virtual switch (osio switch list; the Virtual Switch Manager). 'default' "
			 "is NAT: the VM reaches what the host reaches.");
		choice_field(z, FIELD_CHOICE, "Adapter:", nic_items, 2, &w->nic);
		choice_field(z, FIELD_CHOICE, "Connection:", z->sw_items, z->nsw + 1,
			     &z->sw_choice);
		z->idx[NEWVM_F_SWITCH] = (int)z->nfields - 1;
		break;
	case NEWVM_PAGE_DISK:
		snprintf(
		    z->text, sizeof(z->text),
		    "A virtual machine needs storage to install an operating system on. "
		    "Create a new virtual hard disk (VHDX, dynamic: it takes host space only as "
		    "the guest writes), use one you have, or add one later in Settings.");
		choice_field(z, FIELD_RADIO, "", disk_items, 3, &w->disk);
		snprintf(z->label[0], sizeof(z->label[0]), "  Name: %s.vhdx, in the VM's folder",
			 w->name);
		add(z, FIELD_LABEL, z->label[0]);
		text_field(z, NEWVM_F_DISK_SIZE, "  Size:", w->disk_size, sizeof(w->disk_size),
			   "The disk's size: 40G, 100G, 1T");
		choice_field(z, FIELD_CHOICE, "  Bus:", bus_items, 2, &w->bus);
		{
			struct field *f = add(z, FIELD_FILE, "  Existing disk:");
			f->buf = w->disk_file;
			f->size = sizeof(w->disk_file);
			f->patterns = "*.vhdx,*.vhd,*.qcow2,*.img,*.raw,*.avhdx";
			f->help = "A VHDX, VHD, qcow2 or raw image the VM will use";
			z->idx[NEWVM_F_DISK_FILE] = (int)z->nfields - 1;
		}
		break;
	case NEWVM_PAGE_INSTALL:
		snprintf(z->text, sizeof(z->text),
			 "You can install an operating system now from an ISO image in the "
			 "VM's DVD drive or from a network installation server (PXE), or later.");
		choice_field(z, FIELD_RADIO, "", install_items, 3, &w->install);
		{
			struct field *f = add(z, FIELD_FILE, "  Image file (.iso):");
			f->buf = w->iso;
			f->size = sizeof(w->iso);
			f->patterns = "*.iso";
			f->help = "The installer's ISO image: it goes into the DVD drive";
			z->idx[NEWVM_F_ISO] = (int)z->nfields - 1;
		}
		break;
	case NEWVM_PAGE_SUMMARY: {
		char sum[1536];
		sync_switch(z);
		newvm_summary(w, sum, sizeof(sum));
		snprintf(z->text, sizeof(z->text),
			 "You are about to create this virtual machine:\n\n%s", sum);
		struct field *f =
		    add(z, FIELD_CHECK, "Start the virtual machine after it is created");
		f->check = &w->start;
		break;
	}
	}
	update_enabled(z);
}

static void form_changed(struct form *f, int field, void *opaque)
{
	struct wiz *z = opaque;
	(void)f;
	(void)field;
	update_enabled(z);
}

static int form_validate(struct form *f, int button, char *why, size_t whylen, int *bad,
			 void *opaque)
{
	struct wiz *z = opaque;
	enum newvm_field which = NEWVM_F_NONE;
	int r;
	(void)f;

	if (button == BTN_BACK) {
		if (z->page == 0) {
			snprintf(why, whylen, "This is the first page.");
			return 1;
		}
		return 0;
	}
	if (button == BTN_NEXT && z->page == NEWVM_PAGE_SUMMARY) {
		snprintf(why, whylen, "This is the last page: press Finish to create the VM.");
		return 1;
	}
	sync_switch(z);
	r = newvm_check_page(&z->w, z->page, why, whylen, &which);
	if (r && which != NEWVM_F_NONE)
		*bad = z->idx[which];
	return r ? 1 : 0;
}

static int run_page(struct wiz *z)
{
	struct form f = {
	    .title = z->title,
	    .text = z->text,
	    .fields = z->fields,
	    .buttons = buttons,
	    .nbuttons = 4,
	    .default_button = z->page == NEWVM_PAGE_SUMMARY ? BTN_FINISH : BTN_NEXT,
	    .cancel_button = BTN_CANCEL,
	    .validate = form_validate,
	    .changed = form_changed,
	    .opaque = z,
	    .width = 76,
	};

	build_page(z);
	f.nfields = z->nfields;
	return dlg_form(z->con, &f);
}

/* Puts the new VM into the list (the monitor also sees it soon) and
 * selects it. */
static void select_new(struct console *con, const char *name)
{
	struct vm_info *info = calloc(1, sizeof(*info));

	if (info && vmstore_info(name, info) == 0)
		model_update(&con->model, info);
	free(info);
	model_select_name(&con->model, name);
	monitor_refresh(con->mon, name);
	con_reload_details(con);
	con_dirty(con);
}

/* Creates the VM: true when it exists now (even if a later step failed:
 * the box said so). */
static bool finish(struct wiz *z)
{
	struct console *con = z->con;
	struct newvm *w = &z->w;
	const char *args[32];
	char err[1024];

	if (!newvm_create_args(w, args, 32))
		return false;
	char *out = malloc(JOB_OUTPUT_MAX);
	int r = con_run_osio(con, "New Virtual Machine", args, out, out ? JOB_OUTPUT_MAX : 0);
	free(out);
	if (r != 0)
		return false; /* the box said why; the wizard stays open */
	if (w->disk == NEWVM_DISK_EXISTING && newvm_attach_disk(w, err, sizeof(err)) < 0)
		dlg_message(con, "New Virtual Machine",
			    "The VM '%s' was created, but its disk could not be attached: %s\n\n"
			    "Add the disk in Settings.",
			    w->name, err);
	select_new(con, w->name);
	con_say(con, "Virtual machine '%s' created", w->name);
	if (w->start) {
		const char *start[] = {"start", w->name, NULL};
		con_run_osio_bg(con, w->name, "Starting...", start);
	}
	return true;
}

void wizard_new_vm(struct console *con)
{
	struct wiz *z = calloc(1, sizeof(*z));
	char why[1024];
	enum newvm_page bad;

	if (!z) {
		dlg_message(con, "New Virtual Machine", "Out of memory.");
		return;
	}
	z->con = con;
	newvm_init(&z->w);
	load_switches(z);
	for (;;) {
		int b = run_page(z);
		sync_switch(z);
		if (b == BTN_BACK && z->page > 0) {
			z->page--;
		} else if (b == BTN_NEXT && z->page + 1 < NEWVM_PAGE_COUNT) {
			z->page++;
		} else if (b == BTN_FINISH) {
			if (newvm_check_all(&z->w, &bad, why, sizeof(why), NULL) < 0) {
				z->page = bad;
				dlg_message(con, "New Virtual Machine", "%s", why);
				continue;
			}
			if (finish(z))
				break;
			z->page = NEWVM_PAGE_SUMMARY;
		} else if (b == BTN_CANCEL || b < 0) {
			break;
		}
	}
	free_switches(z);
	free(z);
}
