"""Realistic forum text for the search benchmark: a home-networking brand's support community
in English and Italian.

Posts mix two kinds of sentences: sentences from templates with product-support slots
(products, firmware versions, error codes, ISPs, rooms...) so that phrases such as "factory
reset" or "modalità bridge" occur as people write them, and sentences of words drawn with a
Zipf-Mandelbrot distribution over a ranked vocabulary (function words first, then support
words, then everyday words, then a long tail of rare made-up words) so that word frequencies
and vocabulary growth look like real text. About one word in two hundred is a typo, as in real
forums: those are the hapaxes that make an index's vocabulary large.

Everything comes from one ``random.Random``: the same seed gives the same text.
"""

from __future__ import annotations

import random
from itertools import accumulate

# --- vocabularies (roughly by frequency) ------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FUNCTION_EN = _words(
    """
the i to a and it my is on of in that this with for but not have be you when after can so
from at was are if or do get any no just then all what there now still one has as me also
only again up out like because same since will would could should does did been it's i'm
don't can't doesn't didn't i've which how why where who some more very too even than into
about over other every each both while before until we they them their our your he she
"""
)

SUPPORT_EN = _words(
    """
router wifi password firmware update connection network app reset modem internet signal
device devices settings channel speed mesh satellite cable ethernet port guest printer admin
login page light orange blinking restart reboot factory upgrade version bridge mode dhcp dns
ip address vpn parental controls schedule band ghz mbps slow drops disconnects coverage range
floor house laptop phone tablet tv console smart speaker camera account subscription invoice
billing charged support ticket error message screen button power adapter led status interface
browser ssid wpa2 wpa3 security encryption key forgot change working stopped problem issue
fix solved tried help thanks please yesterday week evening night morning minutes hours always
sometimes never upstairs downstairs garden office kitchen bedroom provider isp fiber dsl line
latency ping gaming streaming download upload test results log logs backhaul roaming nat
double forwarding upnp firewall static lease reservation mac filter block pause notification
widget android ios iphone bluetooth pairing setup install qr code scan wireless wired lan wan
gateway subnet mask antenna interference neighbours congestion beamforming qos priority
"""
)

GENERAL_EN = _words(
    """
time day days today home work works worked use used using need needs want know think see look
looks go going come make made take try trying set turn turned keep keeps find found show shows
shown back first last new old good bad better best great same different other another long
short small big little few many much lot lots right left next way thing things something
nothing anything everything someone anyone people person family kids wife husband son daughter
friend neighbour month year years weekend morning afternoon hour second seconds moment while
ago already yet soon later often usually probably maybe actually really quite pretty almost
enough sure fine ok okay normal weird strange annoying frustrating happy sorry hello hi
question answer reply post thread forum community staff moderator idea feature request vote
suggestion feedback option options menu tab section list step steps guide manual article
video photo picture screenshot file files folder computer desktop pc mac windows linux
battery charger plug socket wall walls door room rooms stairs distance meters feet corner
"""
)

FUNCTION_IT = _words(
    """
il la di che e non un una per in con è mi ho a da del della ma se lo le i si al come anche
più ci ne sono dopo quando però ancora già solo poi tutto nulla questo questa quello mio mia
ha hanno ho avevo era sia o nel nella dei delle alla alle sul sulla dal dalla gli ti vi
noi voi loro cosa chi dove perché qualche ogni tra fra senza sempre molto poco troppo
"""
)

SUPPORT_IT = _words(
    """
router wifi password firmware aggiornamento aggiornare connessione rete app ripristino reset
modem internet segnale dispositivo dispositivi impostazioni canale velocità mesh satellite
cavo porta ospiti stampante accesso pagina luce arancione lampeggia riavvio riavviare
fabbrica versione modalità bridge indirizzo controllo parentale orario banda lenta cade
disconnette copertura piano casa portatile telefono televisore console account abbonamento
fattura addebito assistenza errore messaggio schermo pulsante alimentatore stato interfaccia
sicurezza chiave dimenticata cambiare nuovo vecchio funziona problema risolto provato aiuto
grazie ieri settimana sera notte mattina minuti ore volte mai sopra sotto giardino ufficio
cucina camera operatore fibra linea ritardo gioco download upload prova risultati registro
inoltro firewall statico indirizzi filtro blocco pausa notifica configurazione installare
codice scansione antenna interferenze vicini priorità gateway sottorete
"""
)

GENERAL_IT = _words(
    """
tempo giorno giorni oggi lavoro uso usare bisogno volere sapere penso vedere guardare andare
venire fare fatto prendere provare messo girare tenere trovare trovato mostrare indietro
primo ultimo buono cattivo meglio stesso diverso altro altra lungo corto piccolo grande poca
tanti tante cosa cose qualcosa niente qualcuno persone famiglia figli moglie marito figlio
figlia amico vicino mese anno anni fine secondo secondi momento fa presto dopo spesso
probabilmente forse veramente abbastanza sicuro normale strano fastidioso contento scusate
ciao salve domanda risposta discussione forum comunità moderatore idea funzione richiesta
voto suggerimento opzione opzioni menu sezione lista passaggi guida manuale articolo video
foto immagine schermata computer batteria caricatore presa muro muri porta stanza stanze
scale distanza metri angolo
"""
)

SYLLABLES = _words(
    "ba be bi bo ca ce co cu da de di do fa fe fi fo ga ge go ka ke ki la le li lo lu ma me mi "
    "mo na ne ni no pa pe pi po ra re ri ro ru sa se si so ta te ti to tu va ve vi vo za ze zo "
    "tra tre bri clo spa ste qua gno sci"
)
ENDINGS = ["", "", "", "n", "r", "s", "x", "l", "t"]

TAIL_SIZE = 15_000
ZIPF_S = 1.2
ZIPF_Q = 2.7
TYPO_RATE = 0.005

# --- slots ------------------------------------------------------------------------------------

PRODUCTS = [
    "NetHome AX3000",
    "NetHome AX1800",
    "NetHome AX6000 Pro",
    "NetHome Mesh Duo",
    "NetHome Mesh Trio",
    "NetHome Go app",
    "NetHome Extender E5",
]
ISPS = ["Comcast", "Verizon", "BT", "Vodafone", "TIM", "Fastweb", "Iliad", "WindTre", "Sky"]
DEVICES_EN = ["laptop", "iPhone", "Android phone", "smart TV", "PS5", "Xbox", "printer", "iPad"]
DEVICES_IT = ["portatile", "iPhone", "telefono Android", "televisore", "PS5", "stampante", "iPad"]
ROOMS_EN = ["living room", "bedroom", "kitchen", "office", "garage", "garden", "attic"]
ROOMS_IT = ["salotto", "camera da letto", "cucina", "ufficio", "garage", "giardino", "soffitta"]
TIMES_EN = [
    "every evening",
    "after a few hours",
    "at night",
    "every 10 minutes",
    "randomly",
    "since yesterday",
    "when the microwave is on",
]
TIMES_IT = [
    "ogni sera",
    "dopo qualche ora",
    "di notte",
    "ogni 10 minuti",
    "a caso",
    "da ieri",
    "quando accendo il microonde",
]
COLORS_EN = ["orange", "red", "white", "blue", "purple"]
COLORS_IT = ["arancione", "rosso", "bianco", "blu", "viola"]
SETTINGS = ["Smart Connect", "band steering", "WPA3", "QoS", "UPnP", "IPv6", "Fast Roaming"]
BANDS = ["2.4 GHz", "5 GHz", "6 GHz"]

TITLES_EN = [
    "How do I {action} on the {p}?",
    "Why does my {p} {symptom}?",
    "{p} {symptom} after firmware {fw}?",
    "Can I {action} with my {isp} modem?",
    "Wi-Fi {symptom_short} {when} – any fix?",
    "What does error {err} mean on the {p}?",
    "Is it possible to {action} from the app?",
    "Anyone else whose {p} started to {symptom} {when}?",
    "Best way to {action} for a {dev} in the {room}?",
]
ACTIONS_EN = [
    "update the firmware",
    "reset the admin password",
    "set up port forwarding",
    "change the wifi password",
    "enable bridge mode",
    "add a satellite",
    "set up a guest network",
    "turn off the LEDs",
    "schedule parental controls",
    "cancel my subscription",
    "use WPA3 only",
    "reserve a static IP",
    "split the 2.4 and 5 GHz networks",
    "export the logs",
]
SYMPTOMS_EN = [
    "keep dropping the connection",
    "blink orange",
    "lose the 5 GHz network",
    "reboot by itself",
    "show slow speeds",
    "not show up in the app",
    "disconnect the satellite",
    "block my printer",
    "ignore the parental controls schedule",
]
SYMPTOMS_SHORT_EN = ["drops", "disconnects", "is slow", "keeps rebooting", "stops working"]
IDEA_TITLES_EN = [
    "Feature request: {feature}",
    "Please add {feature}",
    "Idea: {feature} in the app",
    "Would love {feature} on the {p}",
]
FEATURES_EN = [
    "a dark mode",
    "per-device schedules",
    "CSV export of traffic statistics",
    "a WPA3-only mode",
    "a speed widget",
    "notifications for new devices",
    "a built-in VPN server",
    "guest network QR codes",
    "scheduled reboots",
]
DISCUSSION_TITLES_EN = [
    "Share your mesh set-up with the {p}",
    "Firmware {fw} beta: first impressions",
    "Tips for a faster home network",
    "My {p} review after {n} months",
]

TITLES_IT = [
    "Come posso {action} sul {p}?",
    "Perché il mio {p} {symptom}?",
    "{p}: {symptom} dopo il firmware {fw}?",
    "Posso {action} con il modem {isp}?",
    "Il Wi-Fi {symptom_short} {when}, soluzioni?",
    "Cosa significa l'errore {err} sul {p}?",
    "Si può {action} dall'app?",
]
ACTIONS_IT = [
    "aggiornare il firmware",
    "reimpostare la password di amministratore",
    "configurare il port forwarding",
    "cambiare la password del wifi",
    "attivare la modalità bridge",
    "aggiungere un satellite",
    "creare una rete ospiti",
    "spegnere i led",
    "programmare il controllo parentale",
    "disdire l'abbonamento",
    "riservare un indirizzo IP statico",
]
SYMPTOMS_IT = [
    "perde la connessione",
    "lampeggia arancione",
    "perde la rete a 5 GHz",
    "si riavvia da solo",
    "va lento",
    "non compare nell'app",
    "scollega il satellite",
]
SYMPTOMS_SHORT_IT = ["cade", "si disconnette", "è lento", "non funziona più"]
IDEA_TITLES_IT = ["Richiesta: {feature}", "Proposta: {feature} nell'app"]
FEATURES_IT = [
    "una modalità scura",
    "orari per singolo dispositivo",
    "l'esportazione delle statistiche",
    "notifiche per i nuovi dispositivi",
    "un server VPN integrato",
]
DISCUSSION_TITLES_IT = [
    "Presentatevi: che rete avete a casa?",
    "Firmware {fw} beta: prime impressioni",
    "Consigli per una rete più veloce",
]

OPENING_EN = [
    "Since the firmware {fw} update my {dev} keeps losing the {band} network {when}.",
    "I already tried a factory reset and changing the channel, but nothing changed.",
    "The LED on the {p} is blinking {color} and the app shows error {err}.",
    "My ISP is {isp} and their modem is in bridge mode, the {p} does the routing.",
    "A speed test gives {n} Mbps on the cable but only {n2} Mbps over wifi in the {room}.",
    "Is there a way to fix this without resetting everything?",
    "Any help would be appreciated, thanks!",
    "I forgot the admin password and can't log in to the web interface at {ip}.",
    "Port forwarding for port {port} is set but the game server is not reachable from outside.",
    "The guest network works but devices on it can't see the printer.",
    "The parental controls schedule doesn't block the {dev} at night.",
    "I was charged twice for the subscription this month.",
    "The satellite in the {room} disconnects every few minutes.",
    "I have {n3} devices connected, most of them smart plugs and cameras.",
    "The router is on the ground floor and the {room} is two floors up.",
    "Here is what the log says:\n\n```\n{log}\n```",
    "Steps I tried:\n\n1. restarted the {p}\n2. moved the {dev} closer\n3. disabled {setting}",
]
ANSWER_EN = [
    "Go to **Settings → Wireless** and set the {band} channel to {ch} instead of Auto.",
    "This is a known issue in firmware {fw}, please update to {fw2} or later.",
    "Try a factory reset: hold the reset button for 10 seconds until the LED turns {color}.",
    "Check that the modem from {isp} is in bridge mode, otherwise you have double NAT.",
    "Disable {setting} and give the {band} band its own network name.",
    "Move the satellite closer to the router, with no more than two walls in between.",
    "Thanks, that fixed it for me!",
    "Same problem here with the {p}, following.",
    "Could you post a screenshot of the error?",
    "Which firmware version are you on? Open the app and look under *Devices → Router*.",
    "You can allow guests to reach the printer: **Guest network → Allowed devices**.",
    "See the [support article](https://support.example.com/kb/{n4}) about port forwarding.",
    "Reserve an address for the {dev} in **DHCP → Reservations**, then forward the port to it.",
    "Your {isp} line looks fine, the problem is the wifi in the {room}: try a wired backhaul.",
    "We released firmware {fw2} this week, it fixes the drops on {band}. Let us know!",
]
CLOSING_EN = ["Thanks in advance.", "Cheers", "Any ideas?", "Thanks!", "Regards"]

OPENING_IT = [
    "Dopo l'aggiornamento al firmware {fw} il mio {dev} perde la rete a {band} {when}.",
    "Ho già provato il ripristino di fabbrica e a cambiare canale, ma niente.",
    "Il led del {p} lampeggia {color} e l'app mostra l'errore {err}.",
    "Il mio operatore è {isp} e il loro modem è in modalità bridge.",
    "Lo speed test dà {n} Mbps via cavo ma solo {n2} Mbps in wifi in {room}.",
    "C'è un modo per risolvere senza ripristinare tutto?",
    "Grazie a chi mi saprà aiutare!",
    "Ho dimenticato la password di amministratore e non riesco ad accedere a {ip}.",
    "Ho aperto la porta {port} ma il server di gioco non è raggiungibile da fuori.",
    "La rete ospiti funziona ma i dispositivi non vedono la stampante.",
    "Il satellite in {room} si disconnette ogni pochi minuti.",
    "Mi hanno addebitato due volte l'abbonamento questo mese.",
    "Ecco cosa dice il registro:\n\n```\n{log}\n```",
]
ANSWER_IT = [
    "Vai in **Impostazioni → Wireless** e imposta il canale {ch} per i {band}.",
    "È un problema noto del firmware {fw}, aggiorna alla {fw2} o successiva.",
    "Prova il ripristino di fabbrica: tieni premuto il pulsante per 10 secondi.",
    "Controlla che il modem {isp} sia in modalità bridge, altrimenti hai un doppio NAT.",
    "Disattiva {setting} e dai un nome diverso alla rete a {band}.",
    "Avvicina il satellite al router, con al massimo due muri in mezzo.",
    "Grazie, ha funzionato!",
    "Stesso problema anche per me con il {p}, seguo.",
    "Puoi mettere uno screenshot dell'errore?",
    "Che versione del firmware hai? La trovi nell'app sotto *Dispositivi → Router*.",
    "Abbiamo rilasciato il firmware {fw2}, risolve le disconnessioni sui {band}.",
]
CLOSING_IT = ["Grazie in anticipo.", "Ciao", "Idee?", "Grazie!", "Saluti"]

LOG_LINES = [
    "{t} wlan{w}: deauthenticated from {mac} (reason={r})",
    "{t} dhcpd: DHCPACK on {ip} to {mac}",
    "{t} mesh: backhaul RSSI -{rssi} dBm, link {n} Mbps",
    "{t} kernel: eth0 link down",
    "{t} wan: PPPoE session terminated, retrying",
]

TAGS = [
    "wifi",
    "firmware",
    "mesh",
    "5ghz",
    "2.4ghz",
    "app",
    "billing",
    "parental-controls",
    "vpn",
    "setup",
    "performance",
    "port-forwarding",
    "guest-network",
    "dns",
    "ipv6",
    "security",
    "printer",
    "gaming",
    "streaming",
    "isp",
    "bridge-mode",
    "satellite",
    "led",
    "reset",
    "wpa3",
    "android",
    "ios",
    "subscription",
]

# Planted words: each in a handful of topics only (the "rare word" queries).
RARE_WORDS = ["quokka", "thermistor", "ferrite", "pettirosso", "cavatappi"]
RARE_TOPICS = 3


class _Slots(dict[str, str]):
    """Template slots, each made when a template asks for it."""

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, key: str) -> str:
        value = self.text.slot(key)
        self[key] = value
        return value


class Text:
    """Sentences, titles and posts in one language."""

    def __init__(self, rng: random.Random, lang: str, tail: list[str]) -> None:
        self.rng = rng
        self.lang = lang
        en = lang == "en"
        core_function = FUNCTION_EN if en else FUNCTION_IT
        rest = (SUPPORT_EN + GENERAL_EN) if en else (SUPPORT_IT + GENERAL_IT)
        rest = list(dict.fromkeys(rest))
        random.Random(f"vocab-{lang}").shuffle(rest)
        self.vocabulary = list(dict.fromkeys(core_function + rest + tail))
        weights = [1.0 / (rank + ZIPF_Q) ** ZIPF_S for rank in range(1, len(self.vocabulary) + 1)]
        self.cum_weights = list(accumulate(weights))
        self.titles = TITLES_EN if en else TITLES_IT
        self.idea_titles = IDEA_TITLES_EN if en else IDEA_TITLES_IT
        self.discussion_titles = DISCUSSION_TITLES_EN if en else DISCUSSION_TITLES_IT
        self.opening = OPENING_EN if en else OPENING_IT
        self.answer = ANSWER_EN if en else ANSWER_IT
        self.closing = CLOSING_EN if en else CLOSING_IT
        self.lists = {
            "action": ACTIONS_EN if en else ACTIONS_IT,
            "symptom": SYMPTOMS_EN if en else SYMPTOMS_IT,
            "symptom_short": SYMPTOMS_SHORT_EN if en else SYMPTOMS_SHORT_IT,
            "feature": FEATURES_EN if en else FEATURES_IT,
            "dev": DEVICES_EN if en else DEVICES_IT,
            "room": ROOMS_EN if en else ROOMS_IT,
            "when": TIMES_EN if en else TIMES_IT,
            "color": COLORS_EN if en else COLORS_IT,
            "p": PRODUCTS,
            "isp": ISPS,
            "setting": SETTINGS,
            "band": BANDS,
        }

    # --- slots -----------------------------------------------------------------------------

    def slot(self, key: str) -> str:
        rng = self.rng
        choices = self.lists.get(key)
        if choices is not None:
            return rng.choice(choices)
        if key in ("fw", "fw2"):
            return f"{rng.randint(1, 4)}.{rng.randint(0, 9)}.{rng.randint(0, 30)}"
        if key == "err":
            return f"E{rng.randint(1000, 9999)}"
        if key == "ip":
            return f"192.168.{rng.choice((0, 1, 1, 50, 68))}.{rng.randint(1, 254)}"
        if key == "port":
            return str(rng.choice((22, 80, 443, 3074, 8080, 25565, 27015, 32400)))
        if key == "ch":
            return str(rng.choice((1, 6, 11, 36, 44, 100, 149)))
        if key == "log":
            return "\n".join(self._log_line() for _ in range(rng.randint(2, 5)))
        # n, n2, n3, n4: numbers of various sizes
        return str(rng.randint(2, 40) if key == "n3" else rng.randint(5, 950))

    def _log_line(self) -> str:
        rng = self.rng
        mac = ":".join(f"{rng.randint(0, 255):02x}" for _ in range(6))
        return rng.choice(LOG_LINES).format(
            t=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            w=rng.randint(0, 1),
            mac=mac,
            r=rng.randint(1, 15),
            ip=f"192.168.1.{rng.randint(2, 254)}",
            rssi=rng.randint(55, 90),
            n=rng.randint(20, 1200),
        )

    def fill(self, template: str) -> str:
        return template.format_map(_Slots(self))

    # --- words -----------------------------------------------------------------------------

    def zipf_sentence(self) -> str:
        rng = self.rng
        words = rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=rng.randint(5, 18))
        for i, word in enumerate(words):
            if len(word) > 3 and rng.random() < TYPO_RATE * 4:
                words[i] = self._typo(word)
        words[0] = words[0].capitalize()
        return " ".join(words) + rng.choice(".....?!")

    def _typo(self, word: str) -> str:
        rng = self.rng
        i = rng.randrange(len(word) - 1)
        kind = rng.random()
        if kind < 0.4:  # swap two letters
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind < 0.7:  # drop one
            return word[:i] + word[i + 1 :]
        return word[:i] + rng.choice("aeioulnrst") + word[i:]  # add one

    # --- posts -----------------------------------------------------------------------------

    def title(self, kind: str) -> str:
        pool = {"question": self.titles, "idea": self.idea_titles}.get(kind, self.discussion_titles)
        return self.fill(self.rng.choice(pool))

    def post(self, opening: bool, length: int) -> str:
        """A post of about ``length`` words, in paragraphs, with a little Markdown."""
        rng = self.rng
        templates = self.opening if opening else self.answer
        paragraphs: list[str] = []
        sentences: list[str] = []
        words = 0
        while words < length:
            if rng.random() < 0.6:
                sentence = self.fill(rng.choice(templates))
            else:
                sentence = self.zipf_sentence()
            if "\n" in sentence:  # a code block or a list: a paragraph of its own
                if sentences:
                    paragraphs.append(" ".join(sentences))
                    sentences = []
                paragraphs.append(sentence)
            else:
                sentences.append(sentence)
                if len(sentences) >= rng.randint(2, 5):
                    paragraphs.append(" ".join(sentences))
                    sentences = []
            words += sentence.count(" ") + 1
        if sentences:
            paragraphs.append(" ".join(sentences))
        if opening and rng.random() < 0.4:
            paragraphs.append(rng.choice(self.closing))
        return "\n\n".join(paragraphs)


def make_tail(rng: random.Random, size: int = TAIL_SIZE) -> list[str]:
    """Made-up rare words (names, jargon, product codes people invent) for the long tail."""
    seen: dict[str, None] = {}
    while len(seen) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        word += rng.choice(ENDINGS)
        if word not in RARE_WORDS:
            seen.setdefault(word, None)
    return list(seen)


def post_length(rng: random.Random, opening: bool) -> int:
    """Words in a post: log-normal, 20 to 300 (openings a little longer)."""
    median = 70 if opening else 45
    return max(20, min(300, int(rng.lognormvariate(0, 0.7) * median)))
