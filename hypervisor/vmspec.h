/* A VM's settings as the worker consumes them: built from a vmconfig file
 * (vmconfig/spec.c) or from `osio run` options, validated before a VM is
 * created. Paths are absolute or relative to the current directory by the
 * time they get here. */
#ifndef OSIO_VMSPEC_H
#define OSIO_VMSPEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define VM_NAME_MAX 64
#define VM_SERIAL_PORTS 4
#define VM_APPEND_MAX 4096

enum on_reboot {
	ON_REBOOT_RESET, /* the guest's reboot resets the VM (default) */
	ON_REBOOT_EXIT,	 /* the guest's reboot ends osio with status 0 */
};

enum serial_backend {
	SERIAL_NONE,   /* the port exists, its output is dropped */
	SERIAL_STDIO,  /* osio's terminal (raw mode, escape key) or pipes */
	SERIAL_PTY,    /* a new pseudo-terminal; its path is printed */
	SERIAL_SOCKET, /* a Unix stream socket osio listens on */
	SERIAL_FILE,   /* output appended to a file; no input */
};

enum firmware_kind {
	FIRMWARE_AUTO, /* the BIOS, unless a kernel is given to boot directly */
	FIRMWARE_BIOS, /* SeaBIOS: boots from the drives in boot_order */
	FIRMWARE_NONE, /* the kernel is loaded and entered directly */
};

enum boot_device {
	BOOT_DVD,
	BOOT_DISK,
	BOOT_NETWORK,
};
#define VM_BOOT_DEVICES 3

enum drive_media {
	DRIVE_NONE, /* no drive at this IDE position */
	DRIVE_DISK, /* an ATA hard disk */
	DRIVE_DVD,  /* an ATAPI DVD-ROM drive */
};

/* IDE positions: index = controller * 2 + location (0 master, 1 slave),
 * like Hyper-V's "IDE controller 0, location 1". */
#define VM_IDE_DRIVES 4

struct drive_spec {
	enum drive_media media;
	char path[PATH_MAX]; /* disk image; for a DVD the ISO, "" for an empty drive */
	bool readonly;	     /* disks only: DVDs are read-only */
	char name[VM_NAME_MAX]; /* the vmconfig section's name, for messages */
};

enum vnc_kind {
	VNC_NONE, /* no VNC server */
	VNC_AUTO, /* loopback, the first free port from 5900 */
	VNC_TCP,  /* host and port as given */
	VNC_UNIX, /* a Unix socket at path */
};

struct vnc_spec {
	enum vnc_kind kind;
	char host[256]; /* VNC_TCP: a name or address ("" = all, which needs a password) */
	unsigned port;
	char path[PATH_MAX];	      /* VNC_UNIX */
	char password_file[PATH_MAX]; /* "" = no password */
	bool insecure;		      /* listen off loopback without a password anyway */
	char keymap[32];	      /* layout of keysym clients, default "en-us" */
};

enum display_adapter {
	DISPLAY_VGA,  /* standard VGA with Bochs VBE (PCI 1234:1111) */
	DISPLAY_NONE, /* no display adapter */
};

struct serial_spec {
	bool present;
	enum serial_backend backend;
	char path[PATH_MAX]; /* socket or file path */
};

struct vm_spec {
	char name[VM_NAME_MAX];
	uint64_t memory; /* bytes */
	unsigned cpus;
	bool hugepages;
	enum on_reboot on_reboot;
	bool has_uuid;
	uint8_t uuid[16]; /* as written (RFC 4122 byte order) */

	/* Direct kernel boot: a bzImage (Linux boot protocol) or a multiboot
	 * ELF kernel, told apart by their headers. */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX]; /* "" for none; a multiboot module otherwise */
	char append[VM_APPEND_MAX];

	struct serial_spec serial[VM_SERIAL_PORTS]; /* COM1..COM4 */

	/* Firmware boot. Empty paths: found in the usual Debian places. */
	enum firmware_kind firmware;
	char bios[PATH_MAX];
	char vgabios[PATH_MAX];
	enum boot_device boot_order[VM_BOOT_DEVICES];
	unsigned boot_order_n;

	struct drive_spec ide[VM_IDE_DRIVES];
	enum display_adapter display;
	struct vnc_spec vnc;
};

/* Defaults: name "vm", 512 MiB, 1 vCPU, on_reboot reset, COM1 on stdio,
 * firmware auto, boot order dvd, disk, network, no drives, VGA. */
void vm_spec_defaults(struct vm_spec *s);

#endif
