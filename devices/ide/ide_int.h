/* The IDE model's insides, shared by its files: the PIIX3 function and its
 * two channels (piix.c), the task file protocol (core.c), ATA disks (ata.c),
 * ATAPI DVD drives (atapi.c, mmc.c), bus-master DMA (bmdma.c) and holding
 * commands on host errors (pause.c). Locking: each channel has one lock;
 * port accesses (vCPU threads), block-layer completions (worker threads),
 * retries (the event loop) and the control functions take it. */
#ifndef OSIO_IDE_INT_H
#define OSIO_IDE_INT_H

#include "devices/block/block.h"
#include "devices/ide/ide.h"
#include "devices/pci.h"
#include "hypervisor/machine.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IDE_BUF_SIZE (128u * 1024) /* PIO staging: 256 disk or 64 DVD sectors */
#define ATA_SECTOR   512u
#define CD_SECTOR    2048u
#define ATA_MAX_MULT 16u /* sectors per DRQ block of READ/WRITE MULTIPLE */
#define IDE_SG_MAX   (1u << 16)

/* Status register. */
#define ST_BSY	0x80
#define ST_DRDY 0x40
#define ST_DF	0x20
#define ST_DSC	0x10
#define ST_DRQ	0x08
#define ST_ERR	0x01

/* Error register (ATA; a packet device puts its sense key in bits 7:4). */
#define ER_UNC	0x40
#define ER_WP	0x40 /* the same bit: write protected (removable media) */
#define ER_IDNF 0x10
#define ER_ABRT 0x04

/* Device control register. */
#define DC_HOB	0x80
#define DC_SRST 0x04
#define DC_NIEN 0x02

/* Device register. */
#define DEV_LBA 0x40
#define DEV_DEV 0x10

/* ATAPI interrupt reason (the sector count register). */
#define IR_COD 0x01
#define IR_IO  0x02

/* Bus-master IDE registers (per channel, 8 bytes apart). */
#define BM_CMD	      0
#define BM_STATUS     2
#define BM_PRD	      4
#define BM_CMD_START  0x01
#define BM_CMD_TO_MEM 0x08 /* "read/write control": the bus master writes memory */
#define BM_ST_ACTIVE  0x01
#define BM_ST_ERROR   0x02
#define BM_ST_INT     0x04
#define BM_ST_DMA_CAP 0x60 /* drive 0/1 DMA capable: plain storage */

/* Sense keys and additional sense codes (MMC / SPC). */
#define SK_NO_SENSE	       0x0
#define SK_NOT_READY	       0x2
#define SK_MEDIUM_ERROR	       0x3
#define SK_ILLEGAL_REQUEST     0x5
#define SK_UNIT_ATTENTION      0x6
#define SK_ABORTED_COMMAND     0xb
#define ASC_UNRECOVERED_READ   0x11
#define ASC_INVALID_COMMAND    0x20
#define ASC_LBA_OUT_OF_RANGE   0x21
#define ASC_INVALID_FIELD      0x24
#define ASC_SAVING_UNSUPPORTED 0x39
#define ASC_MEDIUM_CHANGED     0x28
#define ASC_MEDIUM_NOT_PRESENT 0x3a
#define ASC_REMOVAL_PREVENTED  0x53 /* ASCQ 02 */

/* Media events of GET EVENT STATUS NOTIFICATION. */
#define EV_NONE		 0
#define EV_EJECT_REQUEST 1
#define EV_NEW_MEDIA	 2
#define EV_MEDIA_REMOVAL 3

enum ide_kind {
	IDE_NONE,
	IDE_DISK,
	IDE_DVD,
};

struct ide_drive;
struct ide_channel;
struct piix_ide;

typedef void (*ide_fn)(struct ide_drive *d);
typedef void (*ide_io_fn)(struct ide_drive *d, int status);

struct atapi_state {
	uint8_t cdb[12];
	bool dma;		      /* the packet's data phase goes through the bus master */
	uint16_t bcl;		      /* byte count limit of a PIO data phase */
	uint8_t sense_key, asc, ascq; /* of the last command */
	bool ua;		      /* medium changed: a UNIT ATTENTION to report */
	uint8_t event;		      /* media event for GESN, EV_NONE if none */
	bool tray_open;
	bool locked; /* PREVENT MEDIUM REMOVAL */
	/* The data-in phase in PIO: bytes of buf still to hand over, and
	 * sectors still to read from the medium after them. */
	uint32_t pio_off, pio_left, drq_len;
	uint64_t lba;
	uint32_t sectors_left;
	uint32_t chunk_sectors;
};

struct ide_drive {
	struct ide_channel *ch;
	unsigned unit;	   /* 0 master, 1 slave */
	unsigned position; /* channel * 2 + unit */
	enum ide_kind kind;
	struct block_dev *blk; /* the disk; the DVD's disc (NULL: none) */
	uint64_t sectors;      /* 512-byte (disk) or 2048-byte (disc) sectors */
	bool readonly;
	char serial[21], model[41];

	/* This device's task file: [0] the last value written, [1] the one
	 * before (what a read with HOB set returns). */
	uint8_t feature[2], nsect[2], lbal[2], lbam[2], lbah[2];
	uint8_t status, error;
	bool intrq; /* interrupt pending (cleared by reading status) */

	/* Settings. */
	unsigned mult;		   /* READ/WRITE MULTIPLE block, 0: disabled */
	uint8_t pio_mode;	   /* SET FEATURES transfer mode values */
	uint8_t dma_mode;	   /* 0x20-0x22 multiword, 0x40-0x45 Ultra DMA */
	bool wcache;		   /* write cache enabled */
	bool standby;		   /* CHECK POWER MODE answer */
	unsigned cyls, heads, spt; /* default geometry */
	unsigned cur_heads, cur_spt;

	/* The ATA command in progress. */
	bool lba48, chs;
	uint64_t lba;	      /* next sector */
	uint32_t left;	      /* sectors still to move */
	unsigned blk_sectors; /* sectors per DRQ block */
	unsigned drq_sectors; /* sectors of the DRQ block now offered */
	unsigned chunk;	      /* sectors read into buf */
	uint32_t chunk_off;   /* bytes of buf already taken */

	/* PIO data phase: the host moves buf[pos, end) through the data
	 * register; pio_done runs when it has. */
	uint8_t *buf;
	uint32_t pos, end;
	bool pio_out;
	ide_fn pio_done;

	/* Block I/O in flight (at most one). */
	struct block_req req;
	struct iovec iov;
	bool io_busy;
	bool io_cancel; /* reset while in flight: its result is dropped */
	ide_io_fn io_done;

	/* on_error=pause (disks): a request that failed with -ENOSPC or -EIO
	 * waits in req for a retry (the drive stays busy) instead of ending
	 * the command. pause.c. */
	bool pause_on_error;
	bool held;
	bool announce;	/* a failure calls the hook (not for timer retries) */
	int hook_err;	/* the hook is due with this error (0: not) */
	int last_error; /* logged once until a request succeeds again */

	/* DMA: waiting for the bus master, then in flight. */
	bool dma_pending;
	bool dma_to_mem;
	bool dma_from_buf; /* the data is buf's, not the medium's */
	uint64_t dma_bytes, dma_offset;
	ide_io_fn dma_done; /* 0, -EFAULT (bus error), -ENOSPC (PRDs too short), -EIO... */
	bool dma_io;	    /* its transfer is in flight: the channel's sg is in use */
	bool dma_remap;	    /* held DMA of a loaded state: sg must be mapped again */

	struct atapi_state atapi;
};

struct ide_channel {
	struct piix_ide *ide;
	unsigned index;
	pthread_mutex_t lock;
	pthread_cond_t io_idle;
	struct ide_drive drive[2];
	unsigned cur;	/* selected device */
	uint8_t select; /* device register as written */
	uint8_t devctl;
	bool irq_level;
	struct irq_line irq;
	uint16_t cmd_base, ctl_base;
	bool decoding;

	uint8_t bm_cmd, bm_status;
	uint32_t bm_prd;
	struct iovec *sg; /* the PRD table mapped to host memory */
	unsigned sg_n, sg_cap;
	bool bm_eot; /* the transfer ends exactly with the table */
};

struct piix_ide {
	struct machine *m;
	char id[32];
	struct pci_device pci;
	pthread_mutex_t decode_lock;
	struct ide_channel ch[2];

	/* on_error=pause: retries every second, and the hook called from
	 * the event loop (pause.c). */
	struct evtimer *retry, *notify;
	pthread_mutex_t hook_lock;
	ide_error_fn hook;
	void *hook_opaque;
	/* Under hook_lock: device.h's pause (no retries meanwhile), and an
	 * announced retry (ide_retry, or a load) that the next one makes. */
	bool paused;
	bool announce_next;
};

/* piix.c: the legacy ports decoded as the PCI configuration says. */
void ide_update_decode(struct piix_ide *ide);

/* core.c: the task file protocol. */
extern const struct bus_ops ide_cmd_ops, ide_ctl_ops;
void ide_channel_init(struct ide_channel *ch, struct piix_ide *ide, unsigned index);
/* Cancels the drives' commands (waiting for their I/O). */
void ide_channel_stop(struct ide_channel *ch);
/* Only once no completion can run any more (the drives' images closed). */
void ide_channel_destroy(struct ide_channel *ch);
/* Power-on (or soft) reset of a drive; waits for its I/O. */
void ide_drive_reset(struct ide_drive *d, bool power_on);
void ide_channel_reset(struct ide_channel *ch);
void ide_update_irq(struct ide_channel *ch);
void ide_raise_irq(struct ide_drive *d);
void ide_set_signature(struct ide_drive *d);
/* Command endings: status and error set, interrupt raised. */
void ide_cmd_ok(struct ide_drive *d);
/* ATA command codes both kinds of device take (ATA8-ACS); the rest live
 * with the command set that has them (ata.c, atapi.c). */
enum {
	CMD_STANDBY_IMMEDIATE_OLD = 0x94,
	CMD_IDLE_IMMEDIATE_OLD = 0x95,
	CMD_STANDBY_OLD = 0x96,
	CMD_IDLE_OLD = 0x97,
	CMD_CHECK_POWER_OLD = 0x98,
	CMD_STANDBY_IMMEDIATE = 0xe0,
	CMD_IDLE_IMMEDIATE = 0xe1,
	CMD_STANDBY = 0xe2,
	CMD_IDLE = 0xe3,
	CMD_CHECK_POWER = 0xe5,
	CMD_FLUSH_CACHE = 0xe7,
	CMD_IDENTIFY = 0xec,
	CMD_SET_FEATURES = 0xef,
};

/* The power-management commands both kinds of device take (STANDBY/IDLE
 * in their forms, CHECK POWER MODE): false for any other command. There is
 * no power to manage; the mode is only reported back. */
bool ide_power_command(struct ide_drive *d, uint8_t cmd);
void ide_cmd_error(struct ide_drive *d, uint8_t error);
/* Offers buf[off, off + len) to the host (out: takes it from the host). */
void ide_pio_start(struct ide_drive *d, uint32_t off, uint32_t len, bool out, ide_fn done);
/* One block request for the drive; done runs (channel lock held) unless a
 * reset dropped it, possibly before this returns; a host error under
 * on_error=pause runs it only after a retry that went through. */
void ide_submit(struct ide_drive *d, enum block_op op, uint64_t offset, const struct iovec *iov,
		unsigned niov, ide_io_fn done);
void ide_wait_io(struct ide_drive *d);
/* Submits the drive's held request again (pause.c's retry). */
void ide_resubmit(struct ide_drive *d);
void ide_put_string(uint16_t *words, const char *s, unsigned nwords);
void ide_id_finish(uint16_t *id, uint8_t *buf);

/* ata.c: the ATA command set of a disk, and what packet devices share. */
bool ata_exec(struct ide_drive *d, uint8_t cmd);
void ata_init_geometry(struct ide_drive *d);
bool ide_set_features(struct ide_drive *d);
void ide_dma_modes(const struct ide_drive *d, uint16_t *id);

/* atapi.c: the PACKET protocol and the DVD drive's medium. */
bool atapi_exec(struct ide_drive *d, uint8_t cmd);
void atapi_reset(struct ide_drive *d, bool power_on);
bool atapi_medium(const struct ide_drive *d);
void atapi_ok(struct ide_drive *d);
void atapi_check(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq);
/* buf holds len bytes of reply; sends at most alloc of them. */
void atapi_reply(struct ide_drive *d, uint32_t len, uint32_t alloc);
void atapi_read(struct ide_drive *d, uint64_t lba, uint32_t count);
int atapi_insert(struct ide_drive *d, struct block_dev *disc, struct block_dev **old);
int atapi_eject(struct ide_drive *d, struct block_dev **old);
/* The disc is not the one the saved state had (a load): the command in
 * progress ends and the guest sees a unit attention and a media event. */
void atapi_media_changed(struct ide_drive *d);

/* mmc.c: the MMC commands a packet carries. */
void mmc_exec(struct ide_drive *d);

/* pause.c: on_error=pause. */
int ide_pause_init(struct piix_ide *ide);
void ide_pause_fini(struct piix_ide *ide);
/* A request of d ended with status (channel lock held): true if it is held
 * for a retry instead of completing. */
bool ide_hold(struct ide_drive *d, int status);
/* device.h's pause: no retries while paused, and back only once every
 * request in flight has completed. */
void ide_pause(void *state, bool paused);
/* After a load: the held requests are retried in a second, and a failure
 * calls the hook again (the VM that pauses for it is a new one). */
void ide_retry_loaded(struct piix_ide *ide);

/* bmdma.c: the bus master. */
extern const struct bus_ops ide_bm_ops;
/* The drive wants `bytes` moved by DMA (to memory: a read); starts when the
 * bus master does. done gets 0 or -errno. */
void ide_dma_begin(struct ide_drive *d, bool to_mem, uint64_t bytes, bool from_buf, uint64_t offset,
		   ide_io_fn done);
void bmdma_reset(struct ide_channel *ch);
/* A loaded drive holds a DMA request whose host addresses are gone: maps
 * the PRD table again into the request (true), or ends the command with
 * the bus master's error as a bad table does (false). Channel lock held. */
bool bmdma_remap(struct ide_drive *d);

/* state.c: the saved state (device.h's save and load). A drive waiting in
 * a step (pio_done, io_done, dma_done) is saved with the step's name; each
 * file lists the steps it hands out, ending with a NULL name. */
struct ide_step {
	const char *name;
	ide_fn pio;
	ide_io_fn io;
};
extern const struct ide_step ata_steps[], atapi_steps[], bmdma_steps[];
struct vmstate_out;
struct vmstate_section;
void ide_save(void *state, struct vmstate_out *out);
int ide_load(void *state, struct vmstate_section *in);

#endif
