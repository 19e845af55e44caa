/* A test-side e1000 driver for the device harness: programs the 82540EM the
 * way Linux's e1000 does (PCI set-up, reset, EEPROM through EERD and the
 * bit-banged Microwire interface, PHY through MDIC, descriptor rings in
 * harness RAM) and plays the network on the other end of the
 * `switch=fd` socketpair. Also builds and checks IPv4/IPv6 TCP/UDP frames
 * with its own checksum code. */
#ifndef OSIO_TEST_E1000_DRIVER_H
#define OSIO_TEST_E1000_DRIVER_H

#include "devices/net/net.h"
#include "devices/pci.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EDRV_DEVFN   PCI_DEVFN(4, 0)
#define EDRV_MMIO    0xfebc0000ull /* BAR0, 128 KiB aligned */
#define EDRV_IO	     0xc040u
#define EDRV_IRQ     11
#define EDRV_TX_RING 0x100000ull
#define EDRV_RX_RING 0x110000ull
#define EDRV_TX_BUF  0x200000ull  /* 64 KiB per TX slot: room for a TSO packet */
#define EDRV_RX_BUF  0x1000000ull /* 16 KiB per RX slot */
#define EDRV_TX_SLOT 0x10000ull
#define EDRV_RX_SLOT 0x4000ull
#define EDRV_MAC     "52:4f:53:00:00:01"

/* Registers (the 8254x manual; the model's own header is not used). */
#define R_CTRL	 0x0000
#define R_STATUS 0x0008
#define R_EECD	 0x0010
#define R_EERD	 0x0014
#define R_MDIC	 0x0020
#define R_VET	 0x0038
#define R_ICR	 0x00c0
#define R_ITR	 0x00c4
#define R_ICS	 0x00c8
#define R_IMS	 0x00d0
#define R_IMC	 0x00d8
#define R_RCTL	 0x0100
#define R_TCTL	 0x0400
#define R_TIPG	 0x0410
#define R_RDBAL	 0x2800
#define R_RDBAH	 0x2804
#define R_RDLEN	 0x2808
#define R_RDH	 0x2810
#define R_RDT	 0x2818
#define R_RDTR	 0x2820
#define R_RADV	 0x282c
#define R_TDBAL	 0x3800
#define R_TDBAH	 0x3804
#define R_TDLEN	 0x3808
#define R_TDH	 0x3810
#define R_TDT	 0x3818
#define R_TIDV	 0x3820
#define R_TADV	 0x382c
#define R_RXCSUM 0x5000
#define R_MTA	 0x5200
#define R_RAL0	 0x5400
#define R_RAH0	 0x5404
#define R_VFTA	 0x5600
#define R_MPC	 0x4010
#define R_GPRC	 0x4074
#define R_GPTC	 0x4080
#define R_GORCL	 0x4088
#define R_GORCH	 0x408c
#define R_TPT	 0x40d4
#define R_TSCTC	 0x40f8

#define CTRL_SLU     (1u << 6)
#define CTRL_RST     (1u << 26)
#define CTRL_VME     (1u << 30)
#define STATUS_LU    (1u << 1)
#define ICR_TXDW     (1u << 0)
#define ICR_TXQE     (1u << 1)
#define ICR_LSC	     (1u << 2)
#define ICR_RXDMT0   (1u << 4)
#define ICR_RXO	     (1u << 6)
#define ICR_RXT0     (1u << 7)
#define RCTL_EN	     (1u << 1)
#define RCTL_UPE     (1u << 3)
#define RCTL_MPE     (1u << 4)
#define RCTL_LPE     (1u << 5)
#define RCTL_BAM     (1u << 15)
#define RCTL_VFE     (1u << 18)
#define RCTL_SECRC   (1u << 26)
#define RCTL_SZ_256  (3u << 16)
#define TCTL_EN	     (1u << 1)
#define TCTL_PSP     (1u << 3)
#define RXCSUM_IPOFL (1u << 8)
#define RXCSUM_TUOFL (1u << 9)

#define TXD_EOP	   0x01
#define TXD_IFCS   0x02
#define TXD_IC	   0x04
#define TXD_TSE	   0x04
#define TXD_RS	   0x08
#define TXD_DEXT   0x20
#define TXD_IDE	   0x80
#define TXD_VLE	   0x40
#define TUCMD_TCP  0x01
#define TUCMD_IP   0x02
#define TUCMD_TSE  0x04
#define POPTS_IXSM 0x01
#define POPTS_TXSM 0x02

#define RXD_DD	  0x01
#define RXD_EOP	  0x02
#define RXD_IXSM  0x04
#define RXD_VP	  0x08
#define RXD_TCPCS 0x20
#define RXD_IPCS  0x40
#define RXE_TCPE  0x20
#define RXE_IPE	  0x40
#define RXE_RXE	  0x80

struct edrv {
	struct harness *h;
	int sock; /* the network's end of the socketpair */
	unsigned ntx, nrx;
	unsigned tx_tail; /* next descriptor the driver fills */
	unsigned rx_tail; /* RDT as last written */
	unsigned rx_next; /* next descriptor to look at */
	uint8_t mac[6];
};

static inline uint32_t edrv_cfg_read(struct edrv *d, unsigned reg, unsigned size)
{
	houtl(d->h, 0xcf8, 0x80000000u | (unsigned)EDRV_DEVFN << 8 | (reg & 0xfc));
	if (size == 1)
		return hinb(d->h, (uint16_t)(0xcfc + (reg & 3)));
	if (size == 2)
		return hinw(d->h, (uint16_t)(0xcfc + (reg & 2)));
	return hinl(d->h, 0xcfc);
}

static inline void edrv_cfg_write(struct edrv *d, unsigned reg, uint32_t v, unsigned size)
{
	houtl(d->h, 0xcf8, 0x80000000u | (unsigned)EDRV_DEVFN << 8 | (reg & 0xfc));
	if (size == 2)
		houtw(d->h, (uint16_t)(0xcfc + (reg & 2)), (uint16_t)v);
	else if (size == 1)
		houtb(d->h, (uint16_t)(0xcfc + (reg & 3)), (uint8_t)v);
	else
		houtl(d->h, 0xcfc, v);
}

static inline uint32_t er32(struct edrv *d, uint32_t reg)
{
	return (uint32_t)hmmio_read(d->h, EDRV_MMIO + reg, 4);
}

static inline void ew32(struct edrv *d, uint32_t reg, uint32_t v)
{
	hmmio_write(d->h, EDRV_MMIO + reg, v, 4);
}

/* A harness with the chipset and the e1000 at 04.0 on a socketpair; BARs
 * placed, decoding and bus mastering on, INTA routed to EDRV_IRQ. */
static inline void edrv_open(struct edrv *d, const char *extra)
{
	memset(d, 0, sizeof(*d));
	d->h = calloc(1, sizeof(*d->h));
	assert_non_null(d->h);
	harness_init(d->h, 64 << 20);
	harness_add(d->h, "i440fx", "i440fx", NULL);
	harness_add(d->h, "piix3", "piix3", NULL);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	d->sock = sv[0];
	char args[256];
	snprintf(args, sizeof(args), "slot=4,mac=" EDRV_MAC ",switch=fd,fd=%d%s%s", sv[1],
		 extra ? "," : "", extra ? extra : "");
	harness_add(d->h, "e1000", "nic", args);
	edrv_cfg_write(d, PCI_BASE_ADDRESS_0, (uint32_t)EDRV_MMIO, 4);
	edrv_cfg_write(d, PCI_BASE_ADDRESS_0 + 4, EDRV_IO, 4);
	edrv_cfg_write(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	/* The PIIX3's PIRQ route for slot 4's INTA (as SeaBIOS sets it up). */
	houtl(d->h, 0xcf8, 0x80000000u | (unsigned)PCI_DEVFN(1, 0) << 8 | 0x60);
	houtb(d->h, (uint16_t)(0xcfc + pci_slot_pirq(EDRV_DEVFN, 0)), EDRV_IRQ);
}

static inline void edrv_close(struct edrv *d)
{
	harness_fini(d->h);
	free(d->h);
	if (d->sock >= 0)
		close(d->sock);
}

/* e1000_reset_hw: interrupts masked, receive and transmit off, then a
 * global reset. */
static inline void edrv_reset(struct edrv *d)
{
	ew32(d, R_IMC, 0xffffffffu);
	ew32(d, R_RCTL, 0);
	ew32(d, R_TCTL, TCTL_PSP);
	ew32(d, R_CTRL, er32(d, R_CTRL) | CTRL_RST);
	assert_false(er32(d, R_CTRL) & CTRL_RST);
	ew32(d, R_IMC, 0xffffffffu);
	(void)er32(d, R_ICR);
}

/* --- EEPROM and PHY ------------------------------------------------------ */

static inline uint16_t edrv_eerd(struct edrv *d, unsigned word)
{
	ew32(d, R_EERD, word << 8 | 1);
	uint32_t v = er32(d, R_EERD);
	assert_true(v & 0x10); /* done */
	return (uint16_t)(v >> 16);
}

#define EECD_SK	  0x01
#define EECD_CS	  0x02
#define EECD_DI	  0x04
#define EECD_DO	  0x08
#define EECD_REQ  0x40
#define EECD_GNT  0x80
#define EECD_PRES 0x100
#define EECD_SIZE 0x200

static inline void edrv_ee_clock(struct edrv *d, uint32_t *eecd)
{
	ew32(d, R_EECD, *eecd | EECD_SK);
	ew32(d, R_EECD, *eecd);
}

static inline void edrv_ee_out(struct edrv *d, uint32_t *eecd, unsigned data, unsigned bits)
{
	for (unsigned mask = 1u << (bits - 1); mask; mask >>= 1) {
		*eecd &= ~(uint32_t)EECD_DI;
		if (data & mask)
			*eecd |= EECD_DI;
		ew32(d, R_EECD, *eecd);
		edrv_ee_clock(d, eecd);
	}
	*eecd &= ~(uint32_t)EECD_DI;
	ew32(d, R_EECD, *eecd);
}

/* As e1000_read_eeprom for a Microwire part: request, chip select, READ
 * opcode (110) and the address, 16 bits in, release. */
static inline uint16_t edrv_mw_read(struct edrv *d, unsigned word)
{
	uint32_t eecd = er32(d, R_EECD);
	assert_true(eecd & EECD_PRES);
	unsigned abits = eecd & EECD_SIZE ? 8 : 6;
	eecd |= EECD_REQ;
	ew32(d, R_EECD, eecd);
	assert_true(er32(d, R_EECD) & EECD_GNT);
	eecd &= ~(uint32_t)(EECD_DI | EECD_SK);
	ew32(d, R_EECD, eecd);
	eecd |= EECD_CS;
	ew32(d, R_EECD, eecd);
	edrv_ee_out(d, &eecd, 0x6, 3);
	edrv_ee_out(d, &eecd, word, abits);
	uint16_t data = 0;
	for (int i = 0; i < 16; i++) {
		ew32(d, R_EECD, eecd | EECD_SK);
		uint32_t v = er32(d, R_EECD);
		data = (uint16_t)(data << 1 | ((v & EECD_DO) != 0));
		ew32(d, R_EECD, eecd);
	}
	eecd &= ~(uint32_t)(EECD_CS | EECD_DI);
	ew32(d, R_EECD, eecd);
	edrv_ee_clock(d, &eecd);
	eecd &= ~(uint32_t)EECD_REQ;
	ew32(d, R_EECD, eecd);
	return data;
}

/* MDIC: returns the register, or -1 on an MDI error. */
static inline int edrv_mdic(struct edrv *d, unsigned phy, unsigned reg, int write, uint16_t val)
{
	ew32(d, R_MDIC, (write ? 1u << 26 : 2u << 26) | phy << 21 | reg << 16 | val);
	uint32_t v = er32(d, R_MDIC);
	assert_true(v & (1u << 28)); /* ready */
	if (v & (1u << 30))
		return -1;
	return (int)(v & 0xffff);
}

static inline int edrv_phy_read(struct edrv *d, unsigned reg)
{
	return edrv_mdic(d, 1, reg, 0, 0);
}

static inline void edrv_phy_write(struct edrv *d, unsigned reg, uint16_t val)
{
	assert_true(edrv_mdic(d, 1, reg, 1, val) >= 0);
}

/* --- rings ----------------------------------------------------------------- */

static inline uint8_t *edrv_txd(struct edrv *d, unsigned i)
{
	return hram(d->h, EDRV_TX_RING + 16ull * i, 16);
}

static inline uint8_t *edrv_rxd(struct edrv *d, unsigned i)
{
	return hram(d->h, EDRV_RX_RING + 16ull * i, 16);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* e1000_configure_tx: ring, head and tail 0, TCTL enabled with padding. */
static inline void edrv_tx_setup(struct edrv *d, unsigned n)
{
	d->ntx = n;
	d->tx_tail = 0;
	memset(hram(d->h, EDRV_TX_RING, 16ull * n), 0, 16ull * n);
	ew32(d, R_TDBAL, (uint32_t)EDRV_TX_RING);
	ew32(d, R_TDBAH, 0);
	ew32(d, R_TDLEN, n * 16);
	ew32(d, R_TDH, 0);
	ew32(d, R_TDT, 0);
	ew32(d, R_TIPG, 0x00602008);
	ew32(d, R_TCTL, TCTL_EN | TCTL_PSP | 0x0f << 4 | 0x40 << 12);
}

/* e1000_configure_rx: ring, buffers of EDRV_RX_SLOT bytes, `give`
 * descriptors handed to the device, RCTL as given (EN is added). */
static inline void edrv_rx_setup(struct edrv *d, unsigned n, unsigned give, uint32_t rctl)
{
	d->nrx = n;
	d->rx_next = 0;
	memset(hram(d->h, EDRV_RX_RING, 16ull * n), 0, 16ull * n);
	for (unsigned i = 0; i < n; i++)
		put64(edrv_rxd(d, i), EDRV_RX_BUF + EDRV_RX_SLOT * i);
	ew32(d, R_RDTR, 0);
	ew32(d, R_RADV, 0);
	ew32(d, R_RDBAL, (uint32_t)EDRV_RX_RING);
	ew32(d, R_RDBAH, 0);
	ew32(d, R_RDLEN, n * 16);
	ew32(d, R_RDH, 0);
	d->rx_tail = give % n;
	ew32(d, R_RDT, d->rx_tail);
	ew32(d, R_RCTL, rctl | RCTL_EN);
}

/* Hands `more` descriptors back to the device (clearing their status). */
static inline void edrv_rx_give(struct edrv *d, unsigned more)
{
	for (unsigned i = 0; i < more; i++) {
		uint8_t *desc = edrv_rxd(d, d->rx_tail);
		memset(desc + 8, 0, 8);
		d->rx_tail = (d->rx_tail + 1) % d->nrx;
	}
	ew32(d, R_RDT, d->rx_tail);
}

/* Puts one descriptor at the tail (no kick); returns its index. */
static inline unsigned edrv_tx_put(struct edrv *d, uint64_t addr, uint32_t lower, uint32_t upper)
{
	unsigned i = d->tx_tail;
	uint8_t *desc = edrv_txd(d, i);
	put64(desc, addr);
	put32(desc + 8, lower);
	put32(desc + 12, upper);
	d->tx_tail = (i + 1) % d->ntx;
	return i;
}

static inline void edrv_tx_kick(struct edrv *d)
{
	ew32(d, R_TDT, d->tx_tail);
}

/* Copies data into TX slot `slot` and returns its guest address. */
static inline uint64_t edrv_tx_buf(struct edrv *d, unsigned slot, const void *data, size_t len)
{
	uint64_t gpa = EDRV_TX_BUF + EDRV_TX_SLOT * slot;
	memcpy(hram(d->h, gpa, len), data, len);
	return gpa;
}

/* A legacy descriptor: length, CSO, command, CSS. */
static inline uint32_t edrv_legacy_lower(size_t len, uint8_t cso, uint8_t cmd)
{
	return (uint32_t)len | (uint32_t)cso << 16 | (uint32_t)cmd << 24;
}

/* Sends one frame in one legacy descriptor (EOP, IFCS, RS) and kicks. */
static inline unsigned edrv_send_legacy(struct edrv *d, const void *frame, size_t len)
{
	uint64_t a = edrv_tx_buf(d, d->tx_tail, frame, len);
	unsigned i = edrv_tx_put(d, a, edrv_legacy_lower(len, 0, TXD_EOP | TXD_IFCS | TXD_RS), 0);
	edrv_tx_kick(d);
	return i;
}

static inline bool edrv_tx_done(struct edrv *d, unsigned i)
{
	return edrv_txd(d, i)[12] & 1;
}

/* A context descriptor. */
static inline void edrv_tx_context(struct edrv *d, uint8_t ipcss, uint8_t ipcso, uint16_t ipcse,
				   uint8_t tucss, uint8_t tucso, uint16_t tucse, uint8_t tucmd,
				   uint32_t paylen, uint8_t hdr_len, uint16_t mss)
{
	unsigned i = d->tx_tail;
	uint8_t *desc = edrv_txd(d, i);
	desc[0] = ipcss;
	desc[1] = ipcso;
	put16(desc + 2, ipcse);
	desc[4] = tucss;
	desc[5] = tucso;
	put16(desc + 6, tucse);
	put32(desc + 8, (paylen & 0xfffff) | (uint32_t)(TXD_DEXT | tucmd) << 24);
	desc[12] = 0;
	desc[13] = hdr_len;
	put16(desc + 14, mss);
	d->tx_tail = (i + 1) % d->ntx;
}

/* An extended data descriptor. */
static inline unsigned edrv_tx_data(struct edrv *d, uint64_t addr, size_t len, uint8_t dcmd,
				    uint8_t popts)
{
	return edrv_tx_put(d, addr, (uint32_t)len | 1u << 20 | (uint32_t)(dcmd | TXD_DEXT) << 24,
			   (uint32_t)popts << 8);
}

/* --- the network's end ---------------------------------------------------- */

/* The next frame the adapter sent, or -1 if none within ms. */
static inline ssize_t edrv_sock_recv(struct edrv *d, uint8_t *buf, size_t size, int ms)
{
	struct pollfd p = {.fd = d->sock, .events = POLLIN};
	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(d->sock, buf, size, MSG_DONTWAIT);
}

static inline void edrv_sock_send(struct edrv *d, const void *frame, size_t len)
{
	assert_int_equal(send(d->sock, frame, len, 0), (ssize_t)len);
}

struct edrv_wait {
	struct edrv *d;
	unsigned idx;
};

static inline bool edrv_rx_dd(void *ctx)
{
	struct edrv_wait *w = ctx;
	return edrv_rxd(w->d, w->idx)[12] & RXD_DD;
}

/* Waits (running the machine's loop) for the descriptor at rx_next to be
 * written; returns its index and advances, or fails the test. */
static inline unsigned edrv_rx_wait(struct edrv *d)
{
	struct edrv_wait w = {d, d->rx_next};
	assert_true(harness_run_until(d->h, 2000, edrv_rx_dd, &w));
	d->rx_next = (d->rx_next + 1) % d->nrx;
	return w.idx;
}

static inline uint8_t *edrv_rx_data(struct edrv *d, unsigned i, size_t len)
{
	return hram(d->h, EDRV_RX_BUF + EDRV_RX_SLOT * i, len);
}

/* --- frames ----------------------------------------------------------------- */

/* One's-complement sum of big-endian 16-bit words (the test's own). */
static inline uint32_t edrv_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t edrv_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wbe16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The pseudo-header's sum of an IPv4 or IPv6 packet at ip for an L4 of
 * len bytes. */
static inline uint32_t edrv_pseudo(const uint8_t *ip, bool v6, uint8_t proto, size_t len)
{
	uint32_t s = v6 ? edrv_sum(0, ip + 8, 32) : edrv_sum(0, ip + 12, 8);
	return s + proto + (uint32_t)len;
}

/* Whether an Ethernet/IPv4-or-IPv6/TCP-or-UDP frame's checksums are right. */
static inline bool edrv_frame_ok(const uint8_t *f, size_t len)
{
	size_t l3 = 14;
	uint16_t type = be16(f + 12);
	if (type == 0x8100) {
		l3 += 4;
		type = be16(f + 16);
	}
	const uint8_t *ip = f + l3;
	bool v6 = type == 0x86dd;
	size_t ihl = v6 ? 40 : (size_t)(ip[0] & 0xf) * 4;
	size_t l4len = v6 ? be16(ip + 4) : be16(ip + 2) - ihl;
	uint8_t proto = v6 ? ip[6] : ip[9];
	if (l3 + ihl + l4len > len)
		return false;
	if (!v6 && edrv_fold(edrv_sum(0, ip, ihl)) != 0xffff)
		return false;
	uint32_t s = edrv_pseudo(ip, v6, proto, l4len);
	return edrv_fold(edrv_sum(s, ip + ihl, l4len)) == 0xffff;
}

/* Builds Ethernet + IPv4 (or IPv6) + TCP (or UDP) with `payload` bytes of
 * a pattern; checksums complete unless `partial` (then the L4 checksum
 * field holds the pseudo-header's sum, as Linux leaves it for offload, and
 * the IPv4 checksum is 0). Returns the frame's length. */
static inline size_t edrv_build(uint8_t *f, const uint8_t dst[6], bool v6, bool tcp, size_t payload,
				bool partial)
{
	static const uint8_t src[6] = {0x52, 0x4f, 0x53, 0, 0, 1};
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	wbe16(f + 12, v6 ? 0x86dd : 0x0800);
	uint8_t *ip = f + 14;
	size_t ihl = v6 ? 40 : 20, l4h = tcp ? 20 : 8;
	size_t l4len = l4h + payload;
	memset(ip, 0, ihl + l4h);
	if (v6) {
		ip[0] = 0x60;
		wbe16(ip + 4, (uint16_t)l4len);
		ip[6] = tcp ? 6 : 17;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
	} else {
		ip[0] = 0x45;
		wbe16(ip + 2, (uint16_t)(ihl + l4len));
		wbe16(ip + 4, 0x1234);
		wbe16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		ip[12] = 10, ip[13] = 0, ip[14] = 2, ip[15] = 15;
		ip[16] = 10, ip[17] = 0, ip[18] = 2, ip[19] = 2;
	}
	uint8_t *l4 = ip + ihl;
	wbe16(l4, 40000);
	wbe16(l4 + 2, tcp ? 80 : 53);
	if (tcp) {
		l4[4] = 0x10; /* sequence 0x10000000 */
		l4[12] = 0x50;
		l4[13] = 0x18; /* ACK, PSH */
		wbe16(l4 + 14, 65535);
	} else {
		wbe16(l4 + 4, (uint16_t)l4len);
	}
	for (size_t i = 0; i < payload; i++)
		l4[l4h + i] = (uint8_t)(i * 7 + 3);
	size_t csum_at = tcp ? 16 : 6;
	uint16_t pseudo = edrv_fold(edrv_pseudo(ip, v6, tcp ? 6 : 17, l4len));
	if (partial) {
		wbe16(l4 + csum_at, pseudo);
	} else {
		if (!v6)
			wbe16(ip + 10, (uint16_t)~edrv_fold(edrv_sum(0, ip, ihl)));
		wbe16(l4 + csum_at, (uint16_t)~edrv_fold(edrv_sum(pseudo, l4, l4len)));
	}
	return 14 + ihl + l4len;
}

#endif
