/* The e1000's configuration EEPROM (64 words behind the bit-banged
 * Microwire interface in EECD and the EERD read register) and its copper
 * PHY (a Marvell 88E1011 as the 82540EM's internal PHY presents itself)
 * behind MDIC. */
#include "devices/net/e1000_int.h"

#include <string.h>

/* EEPROM words the drivers read (8254x manual, 5.6). */
#define EE_ID_LED   0x04
#define EE_ICW1	    0x0a
#define EE_SUBSYS   0x0b
#define EE_SUBVEND  0x0c
#define EE_DEVICE   0x0d
#define EE_VENDOR   0x0e
#define EE_ICW2	    0x0f
#define EE_ICW3_A   0x24
#define EE_CHECKSUM 0x3f

/* Microwire: a start bit, a two-bit opcode, six address bits. */
#define MW_HEADER_BITS 9
#define MW_OP_READ     0x6 /* start bit and opcode 10 */

/* PHY registers (IEEE 802.3 clause 22, and the 88E1011's own). */
#define PHY_BMCR       0x00
#define PHY_BMSR       0x01
#define PHY_ID1	       0x02
#define PHY_ID2	       0x03
#define PHY_ANAR       0x04
#define PHY_ANLPAR     0x05
#define PHY_ANER       0x06
#define PHY_GBCR       0x09
#define PHY_GBSR       0x0a
#define PHY_EXT_STATUS 0x0f
#define PHY_SPEC_CTRL  0x10
#define PHY_SPEC_STAT  0x11
#define PHY_INT_STAT   0x13
#define PHY_EXT_CTRL   0x14

#define BMCR_RESET	0x8000
#define BMCR_ANENABLE	0x1000
#define BMCR_PDOWN	0x0800
#define BMCR_ANRESTART	0x0200
#define BMSR_BASE	0x7949 /* 10/100 abilities, extended status, AN able, MF preamble */
#define BMSR_LINK	0x0004
#define BMSR_ANEGDONE	0x0020
#define ANLPAR_PARTNER	0x45e1 /* acknowledge, pause, 10/100 half and full, 802.3 */
#define GBSR_PARTNER	0x3c00 /* receivers OK, partner 1000BASE-T half and full */
#define SPEC_STAT_LINK	0xac00 /* 1000 Mb/s, full duplex, resolved, link */
#define PHY_ID1_88E1011 0x0141 /* Marvell's OUI ... */
#define PHY_ID2_88E1011 0x0c20 /* ... model and revision */
#define EXT_STATUS_1000 0x3000 /* 1000BASE-T half and full */

void e1000_eeprom_init(struct e1000 *e)
{
	uint16_t *w = e->eeprom;
	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		w[i] = 0xffff; /* unprogrammed */
	for (unsigned i = 0; i < 3; i++)
		w[i] = (uint16_t)(e->mac[2 * i] | e->mac[2 * i + 1] << 8);
	for (unsigned i = 3; i < EE_ICW1; i++)
		w[i] = 0;
	w[EE_ID_LED] = 0xffff; /* the default LED modes */
	w[EE_ICW1] = 0x4000;   /* the valid-image signature */
	w[EE_SUBSYS] = E1000_SUBSYSTEM;
	w[EE_SUBVEND] = E1000_SUBVENDOR;
	w[EE_DEVICE] = E1000_DEVICE;
	w[EE_VENDOR] = E1000_VENDOR;
	w[EE_ICW2] = 0x3000; /* symmetric and asymmetric pause */
	w[EE_ICW3_A] = 0;    /* no wake-up (APM) */
	uint16_t sum = 0;
	for (unsigned i = 0; i < EE_CHECKSUM; i++)
		sum = (uint16_t)(sum + w[i]);
	w[EE_CHECKSUM] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

/* --- Microwire ---------------------------------------------------------- */

uint32_t e1000_eecd_read(struct e1000 *e)
{
	uint32_t v = e->eecd | EECD_PRES;
	if (e->eecd & EECD_REQ)
		v |= EECD_GNT;
	if (!e->ee_reading) {
		v |= EECD_DO; /* ready */
	} else if (e->ee_bit_out) {
		/* ee_bit_out 0 is the dummy 0 after the address, then the data
		 * bits, most significant first, word after word. */
		unsigned pos = e->ee_bit_out - 1;
		unsigned word = ((e->ee_val_in & 0x3f) + pos / 16) % E1000_EEPROM_WORDS;
		if (e->eeprom[word] >> (15 - pos % 16) & 1)
			v |= EECD_DO;
	}
	return v;
}

void e1000_eecd_write(struct e1000 *e, uint32_t val)
{
	uint32_t old = e->eecd;
	e->eecd = val & (EECD_SK | EECD_CS | EECD_DI | EECD_FWE | EECD_REQ);
	if (!(val & EECD_CS) || !(old & EECD_CS)) {
		/* Chip select low (or just raised): the next command starts. */
		e->ee_bits_in = 0;
		e->ee_val_in = 0;
		e->ee_reading = false;
		e->ee_bit_out = 0;
		return;
	}
	if ((old & EECD_SK) || !(val & EECD_SK))
		return; /* not a rising clock edge */
	if (e->ee_reading) {
		if (e->ee_bit_out < E1000_EEPROM_WORDS * 16)
			e->ee_bit_out++;
		return;
	}
	unsigned bit = (val & EECD_DI) != 0;
	if (e->ee_bits_in == 0 && !bit)
		return; /* leading zeros before the start bit */
	if (e->ee_bits_in >= MW_HEADER_BITS)
		return; /* the data of a write or erase: this EEPROM is read-only */
	e->ee_val_in = e->ee_val_in << 1 | bit;
	if (++e->ee_bits_in == MW_HEADER_BITS && e->ee_val_in >> 6 == MW_OP_READ) {
		e->ee_reading = true;
		e->ee_bit_out = 0;
	}
}

void e1000_eerd_write(struct e1000 *e, uint32_t val)
{
	if (!(val & EERD_START)) {
		REG(e, E1000_EERD) = val & ~EERD_DONE;
		return;
	}
	uint32_t addr = (val >> EERD_ADDR_SHIFT) & 0xff;
	uint32_t data = addr < E1000_EEPROM_WORDS ? e->eeprom[addr] : 0;
	REG(e, E1000_EERD) = addr << EERD_ADDR_SHIFT | EERD_DONE | data << EERD_DATA_SHIFT;
}

/* --- the PHY ------------------------------------------------------------ */

bool e1000_phy_has_link(const struct e1000 *e)
{
	return e->port_up && !(e->phy[PHY_BMCR] & BMCR_PDOWN);
}

/* The status registers after a link change. */
void e1000_phy_link(struct e1000 *e)
{
	bool up = e1000_phy_has_link(e);
	e->phy[PHY_BMSR] = BMSR_BASE | (up ? BMSR_LINK | BMSR_ANEGDONE : 0);
	e->phy[PHY_ANLPAR] = up ? ANLPAR_PARTNER : 0;
	e->phy[PHY_ANER] = up ? 0x0001 : 0;
	e->phy[PHY_GBSR] = up ? GBSR_PARTNER : 0;
	e->phy[PHY_SPEC_STAT] = up ? SPEC_STAT_LINK : 0;
}

void e1000_phy_reset(struct e1000 *e)
{
	memset(e->phy, 0, sizeof(e->phy));
	e->phy[PHY_BMCR] = BMCR_ANENABLE | 0x0140; /* full duplex, 1000 Mb/s */
	e->phy[PHY_ID1] = PHY_ID1_88E1011;
	e->phy[PHY_ID2] = PHY_ID2_88E1011;
	e->phy[PHY_ANAR] = 0x0de1;
	e->phy[PHY_GBCR] = 0x0300;
	e->phy[PHY_EXT_STATUS] = EXT_STATUS_1000;
	e->phy[PHY_SPEC_CTRL] = 0x0068;
	e->phy[PHY_EXT_CTRL] = 0x0c60;
	e1000_phy_link(e);
}

bool e1000_phy_loadable(const uint16_t *phy)
{
	return !(phy[PHY_BMCR] & (BMCR_RESET | BMCR_ANRESTART)) &&
	       phy[PHY_ID1] == PHY_ID1_88E1011 && phy[PHY_ID2] == PHY_ID2_88E1011 &&
	       phy[PHY_EXT_STATUS] == EXT_STATUS_1000 && phy[PHY_INT_STAT] == 0;
}

static uint16_t phy_read(struct e1000 *e, unsigned reg)
{
	uint16_t v = e->phy[reg];
	if (reg == PHY_INT_STAT)
		e->phy[reg] = 0;
	return v;
}

static void phy_write(struct e1000 *e, unsigned reg, uint16_t val)
{
	switch (reg) {
	case PHY_BMCR:
		if (val & BMCR_RESET) {
			e1000_phy_reset(e);
			return;
		}
		e->phy[reg] = val & ~BMCR_ANRESTART; /* restarting completes at once */
		e1000_phy_link(e);
		return;
	case PHY_BMSR:
	case PHY_ID1:
	case PHY_ID2:
	case PHY_ANLPAR:
	case PHY_ANER:
	case PHY_GBSR:
	case PHY_EXT_STATUS:
	case PHY_SPEC_STAT:
	case PHY_INT_STAT:
		return; /* read-only */
	}
	e->phy[reg] = val;
}

void e1000_mdic_write(struct e1000 *e, uint32_t val)
{
	unsigned reg = (val >> MDIC_REG_SHIFT) & 0x1f;
	unsigned phy = (val >> MDIC_PHY_SHIFT) & 0x1f;
	uint32_t op = val & (3u << 26);
	uint32_t out = val & ~(MDIC_READY | MDIC_ERROR);
	if (phy != E1000_PHY_ADDR || (op != MDIC_OP_READ && op != MDIC_OP_WRITE)) {
		out |= MDIC_ERROR; /* no PHY answers there */
	} else if (op == MDIC_OP_READ) {
		out = (out & ~MDIC_DATA_MASK) | phy_read(e, reg);
	} else {
		phy_write(e, reg, (uint16_t)(val & MDIC_DATA_MASK));
	}
	REG(e, E1000_MDIC) = out | MDIC_READY;
	if (val & MDIC_INT_EN)
		e1000_set_ics(e, ICR_MDAC);
}
