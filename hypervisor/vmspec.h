/* A VM's settings as the worker consumes them: built from a vmconfig file
 * (vmconfig/spec.c) or from `osio run` options, validated before a VM is
 * created. Paths are absolute or relative to the current directory by the
 * time they get here. */
#ifndef OSIO_VMSPEC_H
#define OSIO_VMSPEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define VM_NAME_MAX	64
#define VM_SERIAL_PORTS 4
#define VM_APPEND_MAX	4096

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

/* Hard disks on virtio-blk: one PCI function each, in vmconfig order. */
#define VM_VIRTIO_DISKS 16
/* A virtio-blk serial number: at most this many bytes (VIRTIO_BLK_ID_BYTES). */
#define VM_DISK_SERIAL_MAX 20
/* Most virtio-blk request queues of one disk. */
#define VM_DISK_QUEUES_MAX 64

enum disk_bus {
	DISK_BUS_IDE,
	DISK_BUS_VIRTIO,
};

struct drive_spec {
	enum drive_media media;
	char path[PATH_MAX];	/* disk image; for a DVD the ISO, "" for an empty drive */
	bool readonly;		/* disks only: DVDs are read-only */
	char name[VM_NAME_MAX]; /* the vmconfig section's name, for messages */
	/* The image format: "raw", "vhdx", "vhd", "qcow2", or "" to recognize
	 * it by its contents. */
	char format[8];
	/* virtio disks: the serial number the guest reads, and the number of
	 * request queues (0: one per vCPU). */
	char serial[VM_DISK_SERIAL_MAX + 1];
	unsigned queues;
	/* Where the drive was configured, for messages: "FILE:LINE" of its
	 * section, or "" (from options). */
	char origin[PATH_MAX + 16];
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

/* What a host error on a disk (the host file system full, an I/O error)
 * does to the VM. */
enum on_disk_error {
	ON_DISK_ERROR_REPORT, /* the guest's request fails with an I/O error */
	ON_DISK_ERROR_PAUSE,  /* the VM pauses until resumed; the request is retried */
};

/* Network adapters: one PCI function each, after the virtio disks, in
 * vmconfig order. */
#define VM_NICS_MAX 8
/* Port forwards of one adapter (NET_FORWARDS_MAX), each as written:
 * "tcp:127.0.0.1:2222 -> 22". */
#define VM_NIC_FORWARDS_MAX 16
#define VM_NIC_FORWARD_LEN  96
/* Most queue pairs of a virtio-net adapter. */
#define VM_NIC_QUEUES_MAX 16
/* An adapter's name is its device id in the worker (struct device's id). */
#define VM_NIC_NAME_MAX 32

enum nic_model {
	NIC_E1000,  /* Intel 82540EM ("e1000") */
	NIC_VIRTIO, /* virtio-net */
};

struct nic_spec {
	/* The [nic] section's name ("nic0", "nic1", ... for an unnamed one
	 * and for --nic): the device id, and what the control API calls it. */
	char name[VM_NIC_NAME_MAX];
	enum nic_model model;
	bool has_mac; /* false: osio run gives it one */
	uint8_t mac[6];
	char switch_name[VM_NAME_MAX]; /* a switch in the store; "default": NAT */
	char forward[VM_NIC_FORWARDS_MAX][VM_NIC_FORWARD_LEN];
	unsigned nforward;
	char tftp[PATH_MAX];	    /* NAT: the TFTP server's directory, "" none */
	char bootfile[256];	    /* NAT: DHCP's boot file name, "" none */
	bool connected;		    /* false: starts unplugged (link down) */
	unsigned queues;	    /* virtio: queue pairs, 0 one per vCPU */
	char origin[PATH_MAX + 16]; /* "FILE:LINE" of its section, "" from options */
};

enum rng_kind {
	RNG_NONE,   /* no entropy device */
	RNG_VIRTIO, /* virtio-rng, fed from the host's getrandom() */
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
	bool boot_order_set; /* named in [boot] order (or --boot), not the default */

	struct drive_spec ide[VM_IDE_DRIVES];
	/* virtio-blk disks, PCI slots after the built-in devices in this order. */
	struct drive_spec virtio[VM_VIRTIO_DISKS];
	unsigned nvirtio;
	enum on_disk_error on_disk_error;
	/* Started as root, the worker becomes this user ("root": it stays
	 * root; "": the osio user when it exists). */
	char worker_user[VM_NAME_MAX];

	enum rng_kind rng;
	/* A second console over virtio-console (present = false: none). */
	struct serial_spec console;

	enum display_adapter display;
	struct vnc_spec vnc;

	struct nic_spec nics[VM_NICS_MAX];
	unsigned nnics;
};

/* Defaults: name "vm", 512 MiB, 1 vCPU, on_reboot reset, COM1 on stdio,
 * firmware auto, boot order dvd, disk, network, no drives, disk errors
 * reported to the guest, no virtio-rng or virtio-console, VGA. */
void vm_spec_defaults(struct vm_spec *s);

/* A virtio disk's serial number when none is configured: "VM-DISK" (the
 * VM's and the disk's names), or when that is longer than 20 bytes its
 * first 11 bytes, '-' and 8 hex digits of a hash of it. */
void vm_disk_serial(const char *vm, const char *disk, char out[VM_DISK_SERIAL_MAX + 1]);

#endif
