/* The emulated Intel 82540EM (e1000): register layout and state shared by
 * its files (e1000.c registers/interrupts, e1000_eeprom.c EEPROM and PHY,
 * e1000_tx.c, e1000_rx.c). Offsets and bits: Intel's 8254x Software
 * Developer's Manual, chapter 13. */
#ifndef OSIO_E1000_INT_H
#define OSIO_E1000_INT_H

#include "devices/net/net.h"
#include "devices/pci.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define E1000_VENDOR	0x8086
#define E1000_DEVICE	0x100e /* 82540EM desktop */
#define E1000_REVISION	3
#define E1000_SUBVENDOR 0x1af4 /* as QEMU's pc machine presents it */
#define E1000_SUBSYSTEM 0x1100
#define E1000_MMIO_SIZE 0x20000
#define E1000_IO_SIZE	0x40

/* Registers (byte offsets in BAR0). */
#define E1000_CTRL     0x0000
#define E1000_STATUS   0x0008
#define E1000_EECD     0x0010
#define E1000_EERD     0x0014
#define E1000_CTRL_EXT 0x0018
#define E1000_MDIC     0x0020
#define E1000_FCAL     0x0028
#define E1000_FCAH     0x002c
#define E1000_FCT      0x0030
#define E1000_VET      0x0038
#define E1000_ICR      0x00c0
#define E1000_ITR      0x00c4
#define E1000_ICS      0x00c8
#define E1000_IMS      0x00d0
#define E1000_IMC      0x00d8
#define E1000_RCTL     0x0100
#define E1000_FCTTV    0x0170
#define E1000_TXCW     0x0178
#define E1000_RXCW     0x0180
#define E1000_TCTL     0x0400
#define E1000_TIPG     0x0410
#define E1000_AIT      0x0458
#define E1000_LEDCTL   0x0e00
#define E1000_PBA      0x1000
#define E1000_FCRTL    0x2160
#define E1000_FCRTH    0x2168
#define E1000_RDBAL    0x2800
#define E1000_RDBAH    0x2804
#define E1000_RDLEN    0x2808
#define E1000_RDH      0x2810
#define E1000_RDT      0x2818
#define E1000_RDTR     0x2820
#define E1000_RXDCTL   0x2828
#define E1000_RADV     0x282c
#define E1000_RSRPD    0x2c00
#define E1000_TXDMAC   0x3000
#define E1000_TDBAL    0x3800
#define E1000_TDBAH    0x3804
#define E1000_TDLEN    0x3808
#define E1000_TDH      0x3810
#define E1000_TDT      0x3818
#define E1000_TIDV     0x3820
#define E1000_TXDCTL   0x3828
#define E1000_TADV     0x382c
#define E1000_TSPMT    0x3830
#define E1000_STATS    0x4000 /* 64 statistics registers, 0x4000-0x40fc */
#define E1000_RXCSUM   0x5000
#define E1000_MTA      0x5200 /* 128 */
#define E1000_RA       0x5400 /* 16 pairs RAL, RAH */
#define E1000_VFTA     0x5600 /* 128 */
#define E1000_WUC      0x5800
#define E1000_WUFC     0x5808
#define E1000_WUS      0x5810
#define E1000_MANC     0x5820
#define E1000_REGS_END 0x5a00 /* registers kept in e1000.reg[] lie below */

/* Statistics registers (index into reg[] relative to E1000_STATS / 4). */
#define E1000_ST(off) (((off)-E1000_STATS) / 4)
#define ST_MPC	      E1000_ST(0x4010)
#define ST_PRC64      E1000_ST(0x405c)
#define ST_GPRC	      E1000_ST(0x4074)
#define ST_BPRC	      E1000_ST(0x4078)
#define ST_MPRC	      E1000_ST(0x407c)
#define ST_GPTC	      E1000_ST(0x4080)
#define ST_GORCL      E1000_ST(0x4088)
#define ST_GORCH      E1000_ST(0x408c)
#define ST_GOTCL      E1000_ST(0x4090)
#define ST_GOTCH      E1000_ST(0x4094)
#define ST_RNBC	      E1000_ST(0x40a0)
#define ST_RUC	      E1000_ST(0x40a4)
#define ST_ROC	      E1000_ST(0x40ac)
#define ST_TORL	      E1000_ST(0x40c0)
#define ST_TORH	      E1000_ST(0x40c4)
#define ST_TOTL	      E1000_ST(0x40c8)
#define ST_TOTH	      E1000_ST(0x40cc)
#define ST_TPR	      E1000_ST(0x40d0)
#define ST_TPT	      E1000_ST(0x40d4)
#define ST_PTC64      E1000_ST(0x40d8)
#define ST_MPTC	      E1000_ST(0x40f0)
#define ST_BPTC	      E1000_ST(0x40f4)
#define ST_TSCTC      E1000_ST(0x40f8)
#define ST_TSCTFC     E1000_ST(0x40fc)
#define E1000_NSTATS  64

/* CTRL */
#define CTRL_FD	     (1u << 0)
#define CTRL_ASDE    (1u << 5)
#define CTRL_SLU     (1u << 6)
#define CTRL_RST     (1u << 26)
#define CTRL_VME     (1u << 30)
#define CTRL_PHY_RST (1u << 31)

/* STATUS */
#define STATUS_FD	  (1u << 0)
#define STATUS_LU	  (1u << 1)
#define STATUS_SPEED_1000 (2u << 6)
#define STATUS_ASDV_1000  (2u << 8) /* auto speed detection: 1000 Mb/s */

/* EECD (Microwire EEPROM interface) */
#define EECD_SK	  (1u << 0)
#define EECD_CS	  (1u << 1)
#define EECD_DI	  (1u << 2)
#define EECD_DO	  (1u << 3)
#define EECD_FWE  (3u << 4)
#define EECD_REQ  (1u << 6)
#define EECD_GNT  (1u << 7)
#define EECD_PRES (1u << 8)
#define EECD_SIZE (1u << 9) /* 256 words; clear: 64 words, 6 address bits */

/* EERD (82540 layout) */
#define EERD_START	(1u << 0)
#define EERD_DONE	(1u << 4)
#define EERD_ADDR_SHIFT 8
#define EERD_DATA_SHIFT 16

/* MDIC */
#define MDIC_DATA_MASK 0xffffu
#define MDIC_REG_SHIFT 16
#define MDIC_PHY_SHIFT 21
#define MDIC_OP_WRITE  (1u << 26)
#define MDIC_OP_READ   (2u << 26)
#define MDIC_READY     (1u << 28)
#define MDIC_INT_EN    (1u << 29)
#define MDIC_ERROR     (1u << 30)
#define E1000_PHY_ADDR 1

/* Interrupt causes (ICR, ICS, IMS, IMC) */
#define ICR_TXDW   (1u << 0)
#define ICR_TXQE   (1u << 1)
#define ICR_LSC	   (1u << 2)
#define ICR_RXSEQ  (1u << 3)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO	   (1u << 6)
#define ICR_RXT0   (1u << 7)
#define ICR_MDAC   (1u << 9)
#define ICR_MASK   0x0001f6ffu /* the causes an 82540 has */

/* RCTL */
#define RCTL_EN		 (1u << 1)
#define RCTL_SBP	 (1u << 2)
#define RCTL_UPE	 (1u << 3)
#define RCTL_MPE	 (1u << 4)
#define RCTL_LPE	 (1u << 5)
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT	 12
#define RCTL_BAM	 (1u << 15)
#define RCTL_BSIZE_SHIFT 16
#define RCTL_VFE	 (1u << 18)
#define RCTL_BSEX	 (1u << 25)
#define RCTL_SECRC	 (1u << 26)

/* RXCSUM */
#define RXCSUM_PCSS_MASK 0xffu
#define RXCSUM_IPOFL	 (1u << 8)
#define RXCSUM_TUOFL	 (1u << 9)

#define RDTR_FPD       (1u << 31) /* also TIDV's: flush the pending delay */
#define E1000_DELAY_NS 1024	  /* RDTR, RADV, TIDV and TADV count 1.024 us */

/* TCTL */
#define TCTL_EN (1u << 1)

/* RAH */
#define RAH_AV (1u << 31)

/* Transmit descriptor command bits (legacy cmd byte, and the top byte of
 * the extended descriptors' second dword). */
#define TXCMD_EOP  0x01
#define TXCMD_IFCS 0x02
#define TXCMD_IC   0x04 /* legacy: insert checksum */
#define TXCMD_TSE  0x04 /* extended: TCP segmentation */
#define TXCMD_RS   0x08
#define TXCMD_RPS  0x10 /* legacy: report packet sent (82544 and older) */
#define TXCMD_DEXT 0x20
#define TXCMD_VLE  0x40
#define TXCMD_IDE  0x80
/* Context descriptor TUCMD bits. */
#define TUCMD_TCP 0x01
#define TUCMD_IP  0x02 /* IPv4 (clear: IPv6) */
#define TUCMD_TSE 0x04
/* Data descriptor POPTS. */
#define POPTS_IXSM    0x01
#define POPTS_TXSM    0x02
#define TXD_DTYP_CTX  0
#define TXD_DTYP_DATA 1
#define TXSTA_DD      0x01

/* Receive descriptor status and errors. */
#define RXSTA_DD    0x01
#define RXSTA_EOP   0x02
#define RXSTA_IXSM  0x04
#define RXSTA_VP    0x08
#define RXSTA_TCPCS 0x20
#define RXSTA_IPCS  0x40
#define RXERR_TCPE  0x20
#define RXERR_IPE   0x40
#define RXERR_RXE   0x80

#define E1000_DESC_SIZE	   16
#define E1000_EEPROM_WORDS 64
#define E1000_EEPROM_SUM   0xbaba
#define E1000_PHY_REGS	   32
#define E1000_RX_MAX	   16384	     /* the longest frame the 82540 receives (LPE) */
#define E1000_TX_BUF	   (NET_GSO_MAX + 4) /* a TSO packet, plus an inserted VLAN tag */
#define E1000_VLAN_HLEN	   4
#define E1000_FCS_LEN	   4
#define E1000_MIN_FRAME	   60 /* without FCS: short frames are padded */

/* The offloads a context descriptor set up, kept until the next one. */
struct e1000_tx_ctx {
	uint8_t ipcss, ipcso, tucss, tucso, tucmd, hdr_len;
	uint16_t ipcse, tucse, mss;
	uint32_t paylen;
};

/* The timers behind ITR and the receive and transmit interrupt delays. */
enum e1000_timer_id {
	E1000_T_ITR,  /* the next interrupt ITR allows */
	E1000_T_RDTR, /* receive delay (restarted by each frame) */
	E1000_T_RADV, /* receive absolute delay */
	E1000_T_TIDV, /* transmit delay (restarted by each descriptor) */
	E1000_T_TADV, /* transmit absolute delay */
	E1000_TIMERS,
};

struct e1000;
struct e1000_timer {
	struct e1000 *e;
	struct evtimer *t;
	enum e1000_timer_id id;
	bool armed;
	uint64_t deadline_ns; /* when it fires (clock_ns), while running */
	uint64_t left_ns;     /* what was left of it, while paused */
};

struct e1000 {
	struct machine *m;
	char id[32];
	struct pci_device pci;
	struct net_port *port;
	uint8_t mac[NET_MAC_LEN];

	/* Everything below is under lock: vCPU threads (registers), the
	 * switch's thread (receive, link), the loop (timers). */
	pthread_mutex_t lock;
	uint32_t reg[E1000_REGS_END / 4]; /* plain registers by offset / 4 */
	uint32_t ioaddr;		  /* the I/O BAR's IOADDR window */
	bool port_up;			  /* the switch's side of the link */
	bool link_up;			  /* what STATUS.LU and the PHY say */

	/* EEPROM and its Microwire state. */
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint32_t eecd;	     /* SK, CS, DI, FWE, REQ as the driver wrote them */
	unsigned ee_bits_in; /* bits shifted in since CS went high */
	uint32_t ee_val_in;
	bool ee_reading;
	unsigned ee_bit_out; /* word * 16 + bit of what DO shows */

	uint16_t phy[E1000_PHY_REGS];

	/* Interrupts: INTx level, ITR throttling, the delay timers. */
	bool irq_level;
	uint64_t irq_next_ns; /* ITR: the earliest next assertion */
	struct e1000_timer timers[E1000_TIMERS];

	/* Transmit: the packet being gathered across descriptors. */
	struct e1000_tx_ctx ctx;
	uint8_t *tx_buf; /* E1000_TX_BUF bytes */
	size_t tx_len;
	bool tx_first;		/* the next data descriptor starts a packet */
	bool tx_drop;		/* this packet is malformed: skip to its EOP */
	bool tx_tse;		/* this packet: TCP segmentation */
	bool tx_legacy;		/* this packet: legacy descriptors */
	uint8_t tx_popts;	/* extended: POPTS of its first descriptor */
	uint8_t tx_cso, tx_css; /* legacy checksum offsets */
	uint8_t tx_cmd;		/* legacy/extended command bits of the first descriptor */
	bool tx_busy, tx_again; /* one thread sends; others leave work for it */

	/* Receive: the port was told -EAGAIN and waits for descriptors. */
	bool rx_blocked;
	uint8_t *rx_buf; /* E1000_RX_MAX + FCS + padding */

	/* Paused (e1000_pause): timers stopped with their time left, link
	 * changes wait; irq_next_ns is then the ITR time left. */
	bool paused;
};

/* The register array, by byte offset. */
#define REG(e, off) ((e)->reg[(off) / 4])

/* e1000.c */
void e1000_set_ics(struct e1000 *e, uint32_t causes);
void e1000_update_irq(struct e1000 *e);
void e1000_stat_add(struct e1000 *e, unsigned idx, uint32_t n);
void e1000_stat_add64(struct e1000 *e, unsigned lo, uint64_t n);
bool e1000_dma_ok(struct e1000 *e);

/* The longest a delay timer runs: a 16-bit count of 1.024 us (or ITR's of
 * 256 ns). */
#define E1000_DELAY_MAX_NS (0xffffull * E1000_DELAY_NS)

/* Whether a register (byte offset < E1000_REGS_END, in reg[]) may hold val:
 * a value the guest could have written, or its power-on value. Lock held. */
bool e1000_reg_loadable(struct e1000 *e, uint32_t off, uint32_t val);
/* Whether the MAC has link now: the PHY's, with CTRL.SLU or auto-negotiation. */
bool e1000_mac_link(const struct e1000 *e);
/* STATUS.LU and the PHY after a change of the port or the PHY; LSC when the
 * link changed. Lock held. */
void e1000_link_update(struct e1000 *e);

/* e1000_state.c: the device model's saved-state hooks. */
void e1000_save(void *state, struct vmstate_out *out);
int e1000_load(void *state, struct vmstate_section *in);

/* e1000_eeprom.c: the EEPROM image, Microwire, EERD, the PHY behind MDIC. */
void e1000_eeprom_init(struct e1000 *e);
uint32_t e1000_eecd_read(struct e1000 *e);
void e1000_eecd_write(struct e1000 *e, uint32_t val);
void e1000_eerd_write(struct e1000 *e, uint32_t val);
void e1000_phy_reset(struct e1000 *e);
void e1000_phy_link(struct e1000 *e);
/* Whether the PHY has link (the port is up and the PHY powered). */
bool e1000_phy_has_link(const struct e1000 *e);
void e1000_mdic_write(struct e1000 *e, uint32_t val);
/* Whether saved PHY registers are ones this PHY could have (its read-only
 * identity as built, no self-clearing bit set). */
bool e1000_phy_loadable(const uint16_t *phy);

/* e1000_tx.c: called with lock held; may drop it while sending. */
void e1000_tx_run(struct e1000 *e);
void e1000_tx_reset(struct e1000 *e);

/* e1000_rx.c */
int e1000_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov, unsigned iovcnt,
		  size_t len);
/* Timers (lock held): arm leaves an armed timer alone unless restart. */
void e1000_timer_arm(struct e1000 *e, enum e1000_timer_id id, uint64_t ns, bool restart);
void e1000_timer_cancel(struct e1000 *e, enum e1000_timer_id id);
bool e1000_timer_armed(const struct e1000 *e, enum e1000_timer_id id);

/* RDTR/RADV expiry and the FPD flush: RXT0 now. Lock held. */
void e1000_rx_timer_fire(struct e1000 *e);
/* TIDV/TADV expiry and the FPD flush: TXDW now. Lock held. */
void e1000_tx_timer_fire(struct e1000 *e);
/* Whether a blocked port should be woken now (descriptors appeared or the
 * receiver was turned off); clears the flag. Lock held. */
bool e1000_rx_should_wake(struct e1000 *e);

#endif
