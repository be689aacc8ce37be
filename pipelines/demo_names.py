"""Name lists for the fictitious demo school.

Names are grouped by origin so a child's first and last name fit together most of the
time, as in a Flemish classroom; the weights give a multicultural city-edge school.
Every combination is invented; any likeness to a real pupil is chance.
"""

from __future__ import annotations

# fmt: off
# origin -> (weight, boys, girls, last names)
ORIGINS: dict[str, tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "vlaams": (
        0.62,
        (
            "Wout", "Jules", "Louis", "Lucas", "Noah", "Arthur", "Finn", "Mats", "Lars", "Seppe",
            "Daan", "Victor", "Vic", "Stan", "Warre", "Lowie", "Rune", "Tuur", "Bas", "Jef",
            "Kobe", "Milan", "Thibo", "Lander", "Matteo", "Siebe", "Robbe", "Ferre", "Cas", "Emiel",
            "Gust", "Nand", "Staf", "Mauro", "Jasper", "Wannes", "Bent", "Lennert", "Xander", "Ward",
        ),
        (
            "Nora", "Julie", "Ella", "Zoë", "Lina", "Mila", "Hanne", "Olivia", "Amélie", "Fleur",
            "Marie", "Lotte", "Fien", "Noor", "Elise", "Liv", "Anna", "Lore", "Jana", "Ilse",
            "Axelle", "Febe", "Nina", "Roos", "Luna", "Lisa", "Jolien", "Margot", "Ona", "Vita",
            "Saar", "Emma", "Louise", "Charlotte", "Lien", "Tess", "Wende", "Elena", "Ines", "Juna",
        ),
        (
            "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
            "De Smet", "Lambrechts", "Van Damme", "De Clercq", "Desmet", "Aerts", "Vermeulen", "Martens",
            "Van den Broeck", "Hermans", "Michiels", "Smets", "Verhoeven", "De Vos", "Pauwels", "Van Acker",
            "Claessens", "Wuyts", "Verstraete", "De Backer", "Coppens", "Vandenberghe", "Segers", "Cools",
            "Stevens", "Van Dyck", "Thys", "Bogaerts", "De Wilde", "Verbeke", "Geerts", "Van Hove",
            "Vanderstraeten", "Dierckx", "Huybrechts", "Verlinden", "Moens", "Baert", "Dhondt", "Laureys",
        ),
    ),
    "marokkaans": (
        0.10,
        ("Mohamed", "Adam", "Ayoub", "Yassin", "Ilias", "Bilal", "Rayan", "Imran", "Hamza", "Zakaria", "Anas"),
        ("Amira", "Yasmine", "Nour", "Salma", "Ines", "Aya", "Malak", "Hiba", "Sara", "Lina", "Ikram", "Soumaya"),
        (
            "El Amrani", "Benali", "El Idrissi", "Bouzid", "Azzouzi", "El Khattabi", "Ouali", "Boukhari",
            "El Ouardi", "Haddouchi", "Amrani", "Chaouki", "Ziani", "El Hamdaoui",
        ),
    ),
    "turks": (
        0.06,
        ("Emir", "Yusuf", "Kerem", "Mert", "Efe", "Ömer", "Burak", "Emre", "Arda", "Baran"),
        ("Elif", "Zeynep", "Defne", "Ecrin", "Eylül", "Asya", "Nehir", "Azra", "Melek", "Ela"),
        ("Çelik", "Yılmaz", "Demir", "Kaya", "Şahin", "Aydın", "Öztürk", "Arslan", "Doğan", "Koç", "Kurt"),
    ),
    "pools": (
        0.05,
        ("Lucas", "Jakub", "Szymon", "Filip", "Antoni", "Kacper", "Oliwer", "Wojtek"),
        ("Zuzanna", "Maja", "Hanna", "Lena", "Julia", "Alicja", "Oliwia", "Zofia"),
        ("Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Zając", "Król", "Dudek", "Wróbel", "Pawlak"),
    ),
    "franstalig": (
        0.05,
        ("Hugo", "Théo", "Maxime", "Nathan", "Gabriel", "Raphaël", "Léon", "Simon"),
        ("Camille", "Chloé", "Manon", "Léa", "Clara", "Alice", "Juliette", "Louise"),
        ("Dubois", "Lambert", "Dupont", "Leclercq", "Renard", "Simon", "Lejeune", "François", "Collard", "Lemaire"),
    ),
    "centraal-afrikaans": (
        0.04,
        ("Nathan", "Jonathan", "Samuel", "Christ", "Dylan", "Joël", "Elie", "Kevin"),
        ("Grâce", "Merveille", "Divine", "Esther", "Naomi", "Princesse", "Joëlle", "Ruth"),
        ("Mbala", "Kabongo", "Tshibangu", "Ilunga", "Mukendi", "Kalala", "Lukusa", "Mutombo", "Nkulu"),
    ),
    "midden-oosten": (
        0.04,
        ("Omar", "Ahmad", "Karim", "Yousef", "Ali", "Hassan", "Mustafa", "Idris"),
        ("Layla", "Rania", "Mariam", "Hala", "Fatima", "Noor", "Dalia", "Jana"),
        ("Al Hassan", "Haddad", "Khalil", "Ahmadi", "Rahimi", "Hamdan", "Nasser", "Mansour", "Saleh"),
    ),
    "zuid-europees": (
        0.04,
        ("Matteo", "Leonardo", "Tiago", "Diego", "Pablo", "Marco", "Rafael", "Luca"),
        ("Sofia", "Giulia", "Lucía", "Beatriz", "Chiara", "Marta", "Alba", "Inês"),
        ("Da Silva", "Pereira", "García", "Fernandes", "Rossi", "Esposito", "Romano", "Martínez", "Costa"),
    ),
}

# A share of children of every origin carries a name from the common Flemish list.
SHARED_FIRST_NAME_SHARE = 0.25

# Staff: first names for usernames like 'juf.sarah' and 'meester.tom'.
STAFF_WOMEN = (
    "Sarah", "An", "Els", "Katrien", "Sofie", "Lien", "Evelien", "Nathalie", "Inge", "Griet",
    "Veerle", "Leen", "Karen", "Ilse", "Nele", "Hilde", "Joke", "Tine", "Eline", "Lotte",
    "Fien", "Jolien", "Charlotte", "Laura", "Hanne", "Sanne", "Marieke", "Kim", "Liesbeth", "Annelies",
    "Nadia", "Fatima", "Ayse", "Elke", "Wendy", "Kelly", "Stefanie", "Sien", "Lies", "Ellen",
)
STAFF_MEN = (
    "Tom", "Pieter", "Bart", "Koen", "Jan", "Wim", "Dries", "Stijn", "Joris", "Bram",
    "Kristof", "Jeroen", "Thomas", "Nico", "Frederik", "Gert", "Steven", "Tim", "Youssef", "Sam",
)
STAFF_LAST_NAMES = (
    "Claes", "Vermeulen", "Goossens", "Willems", "Peeters", "Van Looy", "Dewulf", "Hendrickx", "Bosmans",
    "Van Gucht", "Wellens", "Smolders", "Vos", "Van Laere", "Daems", "Segers", "De Meyer", "Lenaerts",
    "Raes", "Vanhoutte", "El Khatib", "Nys", "Bervoets", "Roels", "Driesen", "Van Rompay", "Lievens",
)
# fmt: on
