/* A polled Intel 82540EM (e1000) driver for the guest programs' network code (nic.h): legacy
 * descriptors, 32 receive buffers of 2048 bytes and 32 transmit slots, the MAC from the EEPROM
 * through EERD and the link from STATUS.LU (PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual, 13 and 14; the order Linux's e1000 sets the device up in). */
#include "io.h"
#include "nic.h"
#include "pci.h"
#include "str.h"
#include "timer.h"
#include "uart.h"

#define E1000_VENDOR 0x8086
#define E1000_DEVICE 0x100e /* 82540EM, what QEMU's e1000 is */

/* Registers (13.4). */
#define REG_CTRL   0x0000
#define REG_STATUS 0x0008
#define REG_EERD   0x0014
#define REG_ICR	   0x00c0
#define REG_IMC	   0x00d8
#define REG_RCTL   0x0100
#define REG_TCTL   0x0400
#define REG_TIPG   0x0410
#define REG_RDBAL  0x2800
#define REG_RDBAH  0x2804
#define REG_RDLEN  0x2808
#define REG_RDH	   0x2810
#define REG_RDT	   0x2818
#define REG_TDBAL  0x3800
#define REG_TDBAH  0x3804
#define REG_TDLEN  0x3808
#define REG_TDH	   0x3810
#define REG_TDT	   0x3818
#define REG_MTA	   0x5200
#define REG_RAL0   0x5400
#define REG_RAH0   0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU  (1u << 6)
#define CTRL_RST  (1u << 26)

#define STATUS_LU (1u << 1)

#define EERD_START	(1u << 0)
#define EERD_DONE	(1u << 4)
#define EERD_ADDR_SHIFT 8
#define EERD_DATA_SHIFT 16

#define RCTL_EN	   (1u << 1)
#define RCTL_BAM   (1u << 15)
#define RCTL_SECRC (1u << 26) /* BSIZE 00 with BSEX 0: 2048-byte buffers */

#define TCTL_EN		(1u << 1)
#define TCTL_PSP	(1u << 3)
#define TCTL_CT_SHIFT	4
#define TCTL_COLD_SHIFT 12

#define RAH_AV (1u << 31)

/* Legacy descriptors (3.2.3, 3.3.3). */
struct rx_desc {
	u64 addr;
	u16 length;
	u16 csum;
	u8 status;
	u8 errors;
	u16 special;
};

struct tx_desc {
	u64 addr;
	u16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	u16 special;
};

#define RXD_DD	     0x01
#define RXD_EOP	     0x02
#define RXD_ERR_MASK 0xf7 /* CE, SE, SEQ, CXE, RXE (TCPE/IPE are only checksum verdicts) */
#define TXD_CMD_EOP  0x01
#define TXD_CMD_IFCS 0x02
#define TXD_CMD_RS   0x08
#define TXD_DD	     0x01

#define RING	32
#define BUF	2048
#define TX_WAIT 1000 /* ms for a transmit slot to come free */

/* Where BAR 0 goes when no firmware assigned it: clear of RAM, of the VGA's and chipset's
 * windows and of where lib/virtio.c puts the virtio devices' BARs (from 0xe0000000). */
#define BAR0_FALLBACK 0xe8000000u

static struct rx_desc rx_ring[RING] __attribute__((aligned(128)));
static struct tx_desc tx_ring[RING] __attribute__((aligned(128)));
static u8 rx_bufs[RING][BUF] __attribute__((section(".noinit"), aligned(16)));
static u8 tx_bufs[RING][BUF] __attribute__((section(".noinit"), aligned(16)));

struct e1000 {
	uintptr_t mmio;
	unsigned rx_next; /* the next descriptor the device fills */
	unsigned tx_next; /* the next descriptor to hand the device */
};

static struct e1000 dev;

static u32 rd(struct e1000 *e, u32 reg)
{
	return mmio_read32(e->mmio + reg);
}

static void wr(struct e1000 *e, u32 reg, u32 v)
{
	mmio_write32(e->mmio + reg, v);
}

static bool find(struct pci_addr *out)
{
	for (u8 d = 0; d < 32; d++) {
		for (u8 fn = 0; fn < 8; fn++) {
			struct pci_addr a = {0, d, fn};
			u16 vendor = pci_read16(a, PCI_VENDOR_ID);
			if (vendor == 0xffff) {
				if (fn == 0)
					break;
				continue;
			}
			if (vendor == E1000_VENDOR &&
			    pci_read16(a, PCI_DEVICE_ID) == E1000_DEVICE) {
				*out = a;
				return true;
			}
		}
	}
	return false;
}

/* BAR 0 (a 32-bit memory BAR of 128 KiB), given an address when the firmware left it unset;
 * memory decoding and bus mastering on. */
static uintptr_t map_bar0(struct pci_addr a)
{
	u16 cmd = pci_read16(a, PCI_COMMAND);
	u32 bar = pci_read32(a, PCI_BAR0);

	if (bar & 1)
		return 0; /* an I/O BAR where the registers should be */
	if ((bar & ~15u) == 0) {
		pci_write16(a, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
		pci_write32(a, PCI_BAR0, BAR0_FALLBACK);
		bar = pci_read32(a, PCI_BAR0);
	}
	pci_write16(a, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return bar & ~15u;
}

/* One EEPROM word through EERD (5.3.1, 13.4.4); -1 when the read never finishes. */
static int eeprom_read(struct e1000 *e, u8 word)
{
	struct timeout t;

	wr(e, REG_EERD, EERD_START | (u32)word << EERD_ADDR_SHIFT);
	timeout_start(&t, 100);
	for (;;) {
		u32 v = rd(e, REG_EERD);
		if (v & EERD_DONE)
			return (int)(v >> EERD_DATA_SHIFT);
		if (timeout_expired(&t))
			return -1;
	}
}

static bool link_up(struct nic *n)
{
	struct e1000 *e = n->priv;

	return rd(e, REG_STATUS) & STATUS_LU;
}

static int send(struct nic *n, const void *frame, unsigned len)
{
	struct e1000 *e = n->priv;
	unsigned i = e->tx_next;
	volatile struct tx_desc *d = &tx_ring[i];
	struct timeout t;

	if (len > NIC_FRAME_MAX || len == 0)
		return -1;
	/* Descriptors go back in order: this slot is free once its previous frame is done. */
	timeout_start(&t, TX_WAIT);
	while (d->cmd && !(d->status & TXD_DD)) {
		if (timeout_expired(&t))
			return -1;
	}
	memcpy(tx_bufs[i], frame, len);
	d->addr = (uintptr_t)tx_bufs[i];
	d->length = (u16)len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
	e->tx_next = (i + 1) % RING;
	__asm__ volatile("" ::: "memory");
	wr(e, REG_TDT, e->tx_next);
	return 0;
}

static int recv(struct nic *n, void *buf, unsigned size)
{
	struct e1000 *e = n->priv;

	for (;;) {
		unsigned i = e->rx_next;
		volatile struct rx_desc *d = &rx_ring[i];
		u8 status = d->status;
		if (!(status & RXD_DD))
			return 0;
		__asm__ volatile("" ::: "memory");
		unsigned len = d->length;
		/* Every frame fits one 2048-byte buffer: anything else (or a frame with errors)
		 * is dropped. */
		bool ok =
		    (status & RXD_EOP) && !(d->errors & RXD_ERR_MASK) && len <= size && len <= BUF;
		if (ok)
			memcpy(buf, rx_bufs[i], len);
		d->status = 0;
		e->rx_next = (i + 1) % RING;
		/* Give it back: the tail points at the last descriptor the device may fill. */
		wr(e, REG_RDT, i);
		if (ok)
			return (int)len;
	}
}

int e1000_probe(struct nic *n)
{
	struct e1000 *e = &dev;
	struct pci_addr a;
	struct timeout t;

	if (!find(&a)) {
		printf("e1000: no 8086:%04x adapter on PCI bus 0\n", E1000_DEVICE);
		return -1;
	}
	*e = (struct e1000){.mmio = map_bar0(a)};
	if (!e->mmio) {
		printf("e1000: BAR 0 is not a memory BAR\n");
		return -1;
	}
	/* Reset (interrupts masked before and after, as Linux's e1000_reset_hw does). */
	wr(e, REG_IMC, 0xffffffffu);
	wr(e, REG_RCTL, 0);
	wr(e, REG_TCTL, TCTL_PSP);
	wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_RST);
	delay_ms(10);
	timeout_start(&t, 500);
	while (rd(e, REG_CTRL) & CTRL_RST) {
		if (timeout_expired(&t)) {
			printf("e1000: the reset did not finish\n");
			return -1;
		}
	}
	wr(e, REG_IMC, 0xffffffffu);
	(void)rd(e, REG_ICR);

	/* The address: EEPROM words 0-2, low byte first (5.6.1). */
	for (u8 w = 0; w < 3; w++) {
		int v = eeprom_read(e, w);
		if (v < 0) {
			printf("e1000: EEPROM word %u: the read did not finish\n", w);
			return -1;
		}
		n->mac[2 * w] = (u8)v;
		n->mac[2 * w + 1] = (u8)(v >> 8);
	}
	wr(e, REG_RAL0,
	   n->mac[0] | (u32)n->mac[1] << 8 | (u32)n->mac[2] << 16 | (u32)n->mac[3] << 24);
	wr(e, REG_RAH0, n->mac[4] | (u32)n->mac[5] << 8 | RAH_AV);
	for (u32 i = 0; i < 128; i++)
		wr(e, REG_MTA + 4 * i, 0);

	/* Link up (auto speed detection). */
	wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_SLU | CTRL_ASDE);

	/* Receive ring: every descriptor owns a buffer; the tail one behind the head. */
	memset(rx_ring, 0, sizeof(rx_ring));
	for (unsigned i = 0; i < RING; i++)
		rx_ring[i].addr = (uintptr_t)rx_bufs[i];
	wr(e, REG_RDBAL, (uintptr_t)rx_ring);
	wr(e, REG_RDBAH, 0);
	wr(e, REG_RDLEN, sizeof(rx_ring));
	wr(e, REG_RDH, 0);
	wr(e, REG_RDT, RING - 1);
	wr(e, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);

	/* Transmit ring. */
	memset(tx_ring, 0, sizeof(tx_ring));
	wr(e, REG_TDBAL, (uintptr_t)tx_ring);
	wr(e, REG_TDBAH, 0);
	wr(e, REG_TDLEN, sizeof(tx_ring));
	wr(e, REG_TDH, 0);
	wr(e, REG_TDT, 0);
	wr(e, REG_TIPG, 10 | 8u << 10 | 6u << 20);
	wr(e, REG_TCTL, TCTL_EN | TCTL_PSP | 0x0fu << TCTL_CT_SHIFT | 0x40u << TCTL_COLD_SHIFT);

	n->name = "e1000";
	n->send = send;
	n->recv = recv;
	n->link_up = link_up;
	n->priv = e;
	return 0;
}
