/* The console's actions (actions.h): labels, keys, and in which states of
 * the selected VM each can be done, as Hyper-V Manager enables them. */
#include "console/actions.h"
#include "console/model.h"

#include <stdio.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

static const struct action_desc actions[ACT_COUNT] = {
    [ACT_NEW_VM] =
	{ACT_NEW_VM, "New Virtual Machine...", "New", 'n', 0, false, false,
	 "Create a virtual machine: name, memory, disk, network and installation media."},
    [ACT_NEW_DISK] = {ACT_NEW_DISK, "New Hard Disk...", "NewDisk", 'd', 0, false, false,
		      "Create a virtual hard disk (VHDX, VHD, qcow2 or raw)."},
    [ACT_NEW_SWITCH] = {ACT_NEW_SWITCH, "New Virtual Switch...", "NewSw", 'w', 0, false, false,
			"Create a virtual switch (NAT, private, internal or external)."},
    [ACT_IMPORT] = {ACT_IMPORT, "Import Virtual Machine...", "Import", 'i', 0, false, false,
		    "Import a VM from an exported folder or a vmconfig file."},
    [ACT_SWITCH_MANAGER] = {ACT_SWITCH_MANAGER, "Virtual Switch Manager...", "SwMgr", 'v', 0, false,
			    false, "Create, edit and delete virtual switches."},
    [ACT_EDIT_DISK] = {ACT_EDIT_DISK, "Edit Disk...", "EditDsk", 'g', 0, false, false,
		       "Inspect, check, convert or resize a virtual hard disk."},
    [ACT_CONNECT] = {ACT_CONNECT, "Connect...", "Connect", 'c', 0, true, false,
		     "Open the VM's screen (a window, a VNC viewer or in the terminal)."},
    [ACT_SETTINGS] = {ACT_SETTINGS, "Settings...", "Setting", 'e', 0, true, false,
		      "Change the VM's hardware: firmware, memory, disks, DVD, adapters."},
    [ACT_START] = {ACT_START, "Start", "Start", 's', 0, true, false, "Start the VM."},
    [ACT_TURN_OFF] = {ACT_TURN_OFF, "Turn Off...", "TurnOff", 'o', 0, true, true,
		      "Turn the VM off at once, as pulling its plug would (unsaved work is lost)."},
    [ACT_SHUT_DOWN] = {ACT_SHUT_DOWN, "Shut Down...", "ShutDn", 'h', 0, true, true,
		       "Ask the guest to shut down (the ACPI power button)."},
    [ACT_SAVE] = {ACT_SAVE, "Save", "Save", 'a', 0, true, false,
		  "Save the VM's state to disk and turn it off; Start resumes it."},
    [ACT_PAUSE] = {ACT_PAUSE, "Pause", "Pause", 'p', 0, true, false,
		   "Stop the VM's processors; Resume goes on."},
    [ACT_RESUME] = {ACT_RESUME, "Resume", "Resume", 'u', 0, true, false,
		    "Let a paused VM run again."},
    [ACT_RESET] = {ACT_RESET, "Reset...", "Reset", 't', 0, true, true,
		   "Restart the VM at once, as its reset button would (unsaved work is lost)."},
    [ACT_CHECKPOINT] = {ACT_CHECKPOINT, "Checkpoint", "Chkpt", 'k', 0, true, false,
			"Take a checkpoint of the VM's disks (and state, when it runs)."},
    [ACT_REVERT] = {ACT_REVERT, "Revert...", "Revert", 'b', 0, true, true,
		    "Go back to the checkpoint the VM last came from (the current state is "
		    "lost)."},
    [ACT_DELETE] = {ACT_DELETE, "Delete...", "Delete", 'x', 0, true, true,
		    "Delete the VM with its saved state and checkpoints (its disks if you agree)."},
    [ACT_RENAME] = {ACT_RENAME, "Rename...", "Rename", 'm', 2, true, false,
		    "Give the VM another name (its folder and disks follow)."},
    [ACT_HELP] = {ACT_HELP, "Help", "Help", '?', 1, false, false,
		  "Show the keys and what each action does."},
    [ACT_FILTER] = {ACT_FILTER, "Filter", "Filter", '/', 0, false, false,
		    "Show only the VMs whose name or state holds what you type."},
    [ACT_QUIT] = {ACT_QUIT, "Quit", "Quit", 'q', 10, false, false,
		  "Leave the console (the VMs keep running)."},
};

/* The key bar's order: the VM's actions as Hyper-V lists them, then the
 * host's, then the console's own. */
static const enum con_action bar_order[] = {
    ACT_CONNECT,   ACT_START,	   ACT_TURN_OFF,       ACT_SHUT_DOWN,  ACT_SAVE,
    ACT_PAUSE,	   ACT_RESUME,	   ACT_RESET,	       ACT_CHECKPOINT, ACT_REVERT,
    ACT_SETTINGS,  ACT_RENAME,	   ACT_DELETE,	       ACT_NEW_VM,     ACT_NEW_DISK,
    ACT_EDIT_DISK, ACT_NEW_SWITCH, ACT_SWITCH_MANAGER, ACT_IMPORT,     ACT_FILTER,
};

const struct action_desc *action_get(enum con_action a)
{
	if ((unsigned)a >= ACT_COUNT)
		return NULL;
	return &actions[a];
}

int action_by_key(int key)
{
	if (key <= 0)
		return -1;
	for (int a = 0; a < ACT_COUNT; a++) {
		if (actions[a].key == key)
			return a;
		if (actions[a].fkey && key == KEY_F(actions[a].fkey))
			return a;
	}
	return -1;
}

#define ST(s) (1u << (s))

/* The states in which each VM action is allowed. */
static unsigned allowed_states(enum con_action a)
{
	const unsigned off = ST(VM_OFF) | ST(VM_SAVED) | ST(VM_CRASHED);

	switch (a) {
	case ACT_START:
	case ACT_DELETE:
	case ACT_RENAME:
		return off;
	case ACT_CONNECT:
	case ACT_TURN_OFF:
		return ST(VM_RUNNING) | ST(VM_PAUSED) | ST(VM_STARTING);
	case ACT_SHUT_DOWN:
	case ACT_RESET:
	case ACT_PAUSE:
		return ST(VM_RUNNING);
	case ACT_SAVE:
		return ST(VM_RUNNING) | ST(VM_PAUSED);
	case ACT_RESUME:
		return ST(VM_PAUSED);
	case ACT_CHECKPOINT:
	case ACT_REVERT:
		return ST(VM_OFF) | ST(VM_SAVED) | ST(VM_RUNNING) | ST(VM_PAUSED);
	case ACT_SETTINGS:
		return ~(ST(VM_SAVING) | ST(VM_STARTING));
	default:
		return ~0u;
	}
}

/* Why a in state s is not allowed: what to do first (into buf). */
static const char *refusal(enum con_action a, enum vm_state s, char *buf, size_t size)
{
	switch (a) {
	case ACT_START:
		if (s == VM_PAUSED)
			return "The VM is paused: resume it instead";
		return "The VM is already running";
	case ACT_DELETE:
	case ACT_RENAME:
		return s == VM_SAVING || s == VM_STARTING
			   ? "Wait until the VM has stopped changing "
			     "state, then turn it off"
			   : "Turn the VM off first";
	case ACT_RESUME:
		return "Only a paused VM can be resumed";
	case ACT_SETTINGS:
		return "Wait until the VM has finished starting or saving";
	case ACT_CHECKPOINT:
	case ACT_REVERT:
		if (s == VM_CRASHED)
			return "The VM crashed: start it or leave it off first";
		break;
	case ACT_SHUT_DOWN:
	case ACT_RESET:
	case ACT_PAUSE:
		if (s == VM_PAUSED)
			return "The VM is paused: resume it first";
		break;
	default:
		break;
	}
	if (s == VM_STARTING || s == VM_SAVING) {
		snprintf(buf, size, "The VM is %s: wait until it is done",
			 s == VM_STARTING ? "starting" : "saving");
		return buf;
	}
	snprintf(buf, size, "The VM is %s: start it first",
		 s == VM_OFF	 ? "off"
		 : s == VM_SAVED ? "saved"
				 : "crashed");
	return buf;
}

static bool no(char *why, size_t whylen, const char *text)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", text);
	return false;
}

bool action_enabled(enum con_action a, const struct vm_row *sel, bool has_checkpoint, char *why,
		    size_t whylen)
{
	if ((unsigned)a >= ACT_COUNT)
		return no(why, whylen, "No such action");
	if (why && whylen)
		why[0] = '\0';
	if (!actions[a].vm)
		return true;
	if (!sel)
		return no(why, whylen, "No VM is selected");
	/* Turn Off and Connect stay open while a command works on the VM: as in
	 * Hyper-V, a shutdown the guest ignores can be cut short, and the screen
	 * watched meanwhile. */
	if (sel->busy && a != ACT_TURN_OFF && a != ACT_CONNECT)
		return no(why, whylen, "An osio command is working on this VM: wait until it ends");
	if ((unsigned)sel->info.state >= 32 || !(allowed_states(a) & ST(sel->info.state))) {
		char buf[96];
		return no(why, whylen, refusal(a, sel->info.state, buf, sizeof(buf)));
	}
	if (a == ACT_REVERT && !has_checkpoint)
		return no(why, whylen, "The VM has no checkpoint to revert to");
	return true;
}

unsigned action_bar(const struct vm_row *sel, bool has_checkpoint, enum con_action *out,
		    unsigned max)
{
	unsigned n = 0;
	/* Help and Quit always end it: room is kept for them. */
	unsigned room = max >= 2 ? max - 2 : 0;

	for (size_t i = 0; i < sizeof(bar_order) / sizeof(bar_order[0]) && n < room; i++)
		if (action_enabled(bar_order[i], sel, has_checkpoint, NULL, 0))
			out[n++] = bar_order[i];
	if (n < max)
		out[n++] = ACT_HELP;
	if (n < max)
		out[n++] = ACT_QUIT;
	return n;
}
