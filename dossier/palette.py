"""One colour palette for the whole app (Okabe-Ito based, colour-blind safe)."""

# Zones A (strong) to E (gevarenzone): blue → sky → yellow → orange → vermillion.
ZONE_COLOURS = {"A": "#0072B2", "B": "#56B4E9", "C": "#F0E442", "D": "#E69F00", "E": "#D55E00"}

DOMAIN_COLOURS = {
    "wiskunde": "#000000",
    "spelling": "#CC79A7",
    "technisch_lezen": "#009E73",
    "begrijpend_lezen": "#0072B2",
}

PHASE_COLOURS = {1: "#F0E442", 2: "#E69F00", 3: "#D55E00"}

# Keyed by the Dutch type label shown in the legend.
REGISTRATION_COLOURS = {
    "Observatie": "#56B4E9",
    "Oudergesprek": "#E69F00",
    "Leerlinggesprek": "#F0E442",
    "MDO-bespreking": "#D55E00",
    "Klassenraad": "#CC79A7",
    "Maatregel": "#009E73",
    "Evaluatie": "#0072B2",
    "Zorgfase-wijziging": "#000000",
    "CLB-terugkoppeling": "#999999",
    "Verslag": "#6A3D9A",
    "Leefregel": "#B15928",
    "Overige": "#666666",
}
