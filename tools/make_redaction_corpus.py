#!/usr/bin/env python3
"""Writes data/redaction/corpus.jsonl, the regression corpus for personal-data redaction.

Each line is one sentence as a Peruvian customer might write it. Lines with "planted" carry
one piece of personal data, spelled one way (spaces, dashes and digits of every kind, accents,
keywords before or after); redaction must remove all of it and leave the placeholder of its
kind. Lines with kind "keep" are near-misses (prices, order numbers, dates, years, quantities,
a shop's address, a company's RUC) that must come out unchanged.

The numbers are random but valid where validity is checked (Luhn for cards, the SUNAT check
digit for RUC), from a fixed seed, so the file is the same on every run:
    python3 tools/make_redaction_corpus.py
"""

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "redaction" / "corpus.jsonl"
rng = random.Random(20261207)

NBSP, NNBSP, FIGURE_SPACE, THIN = "\u00a0", "\u202f", "\u2007", "\u2009"
EN_DASH, EM_DASH, MINUS, HYPHEN = "\u2013", "\u2014", "\u2212", "\u2010"
ZWSP, ZWJ, WORD_JOINER, SOFT_HYPHEN = "\u200b", "\u200d", "\u2060", "\u00ad"


def digits_in(script_zero: int, number: str) -> str:
    return "".join(chr(script_zero + int(d)) if d.isdigit() else d for d in number)


def fullwidth(number: str) -> str:
    return digits_in(0xFF10, number)


def arabic_indic(number: str) -> str:
    return digits_in(0x0660, number)


def persian(number: str) -> str:
    return digits_in(0x06F0, number)


def devanagari(number: str) -> str:
    return digits_in(0x0966, number)


def mobile() -> str:
    return "9" + "".join(rng.choice("0123456789") for _ in range(8))


def grouped(number: str, sizes, sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(number[at : at + size])
        at += size
    return sep.join(parts)


def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        candidate = body + check
        total = 0
        for i, d in enumerate(reversed(candidate)):
            n = int(d)
            if i % 2 == 1:
                n = n * 2 - 9 if n * 2 > 9 else n * 2
            total += n
        if total % 10 == 0:
            return candidate
    raise AssertionError


def dni() -> str:
    return str(rng.randint(10_000_000, 79_999_999))


def ruc_check(first_ten: str) -> str:
    weights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    total = sum(int(d) * w for d, w in zip(first_ten, weights))
    check = 11 - total % 11
    return str({10: 0, 11: 1}.get(check, check))


def ruc(prefix: str) -> str:
    first_ten = prefix + dni()
    return first_ten + ruc_check(first_ten)


lines = []


def plant(kind: str, frame: str, secret: str) -> None:
    assert "{}" in frame
    lines.append({"kind": kind, "text": frame.format(secret), "planted": secret})


def keep(note: str, text: str) -> None:
    lines.append({"kind": "keep", "text": text, "note": note})


# --- Phones --------------------------------------------------------------------------------
PHONE_FRAMES = [
    "llámenme al {} por favor",
    "mi cel es {} por si acaso",
    "escríbanme al wsp {}",
    "{} ese es mi número",
    "contacto: {}",
    "mi número {}, gracias",
    "yapéame al {} y listo",
    "cualquier cosa al {}.",
    "call me at {} please",
    "si no contesto, al {} de mi esposa",
    "el repartidor tenía mi celu {} y ni llamó",
    "manden la boleta al {} por whatsapp",
]


def mobile_spellings(n: str):
    yield n
    yield grouped(n, (3, 3, 3), " ")
    yield grouped(n, (3, 3, 3), "-")
    yield grouped(n, (3, 3, 3), ".")
    yield grouped(n, (3, 3, 3), "/")
    yield grouped(n, (3, 3, 3), " - ")
    yield "+51 " + grouped(n, (3, 3, 3), " ")
    yield "+51" + n
    yield "+51-" + grouped(n, (3, 3, 3), "-")
    yield "(+51) " + grouped(n, (3, 3, 3), "-")
    yield "(51) " + n
    yield "0051 " + grouped(n, (3, 3, 3), " ")
    yield "0051" + n
    yield "51" + n
    yield grouped(n, (3, 3, 3), NBSP)
    yield grouped(n, (3, 3, 3), NNBSP)
    yield grouped(n, (3, 3, 3), FIGURE_SPACE)
    yield grouped(n, (3, 3, 3), THIN)
    yield grouped(n, (3, 3, 3), EN_DASH)
    yield grouped(n, (3, 3, 3), EM_DASH)
    yield grouped(n, (3, 3, 3), MINUS)
    yield grouped(n, (3, 3, 3), HYPHEN)
    yield grouped(n, (3, 3, 3), ZWSP)
    yield grouped(n, (3, 3, 3), WORD_JOINER)
    yield ZWJ.join(n)
    yield grouped(n, (3, 3, 3), SOFT_HYPHEN)
    yield " ".join(n)
    yield "-".join(n)
    yield ".".join(n)
    yield grouped(n, (2, 3, 4), " ")
    yield grouped(n, (3, 2, 2, 2), " ")
    yield grouped(n, (3, 3, 3), "  ")
    yield fullwidth(n)
    yield fullwidth(grouped(n, (3, 3, 3), " "))
    yield arabic_indic(n)
    yield arabic_indic(grouped(n, (3, 3, 3), " "))
    yield persian(n)
    yield devanagari(n)
    yield "+" + fullwidth("51") + " " + fullwidth(n)
    yield "+51 " + grouped(n, (3, 3, 3), NBSP)
    yield "+51" + NBSP + grouped(n, (3, 3, 3), EN_DASH)


for i, spelling in enumerate(mobile_spellings(mobile())):
    plant("phone", PHONE_FRAMES[i % len(PHONE_FRAMES)], spelling)
# A second pass with other numbers and frames, so no spelling is tested on one number only.
for i, spelling in enumerate(mobile_spellings(mobile())):
    plant("phone", PHONE_FRAMES[(i + 5) % len(PHONE_FRAMES)], spelling)

LANDLINES = [
    "(01) 434-5678",
    "(01) 4345678",
    "01 434 5678",
    "01-434-5678",
    "014345678",
    "+51 1 434 5678",
    "+51 (1) 434-5678",
    "(01)" + NBSP + "434" + EN_DASH + "5678",
    "(054) 271234",
    "054-271234",
    "054 271 234",
    "+51 54 271234",
    "(044) 205 310",
    "(076) 36" + NBSP + "4512",
    fullwidth("(01) 434-5678"),
    arabic_indic("(01) 434-5678"),
]
for i, spelling in enumerate(LANDLINES):
    plant("phone", ["llamen al fijo {}", "teléfono de mi casa: {}", "mi fijo {} (llamar de noche)", "tel. {}"][i % 4], spelling)
# A local number without an area code is a phone only where the sentence says so.
for frame, number in [
    ("mi teléfono es {}", "434-5678"),
    ("teléfono: {}", "4345678"),
    ("llámame al fijo {}", "434 5678"),
    ("mi celular es el {}", "98 765 43 21"),
    ("whatsapp {}", "9876-54321"),
    ("telf. {}", "271234"),
]:
    plant("phone", frame, number)

# --- E-mails -------------------------------------------------------------------------------
EMAIL_FRAMES = [
    "escríbanme a {} porfa",
    "mi correo es {}",
    "{} es mi mail",
    "manden la factura a {}.",
    "contact me at {}",
    "correo: {}, gracias",
]
EMAILS = [
    "rosa.quispe85@gmail.com",
    "josé.pérez@gmail.com",
    "MARÍA_LÓPEZ@HOTMAIL.COM",
    "ñandú_2020@outlook.es",
    "ana.pérez@yahoo.com.pe",
    "LUIS.GÓMEZ@PUCP.EDU.PE",
    "jorge-huamán@empresa.com.pe",
    "c.mamani+pedidos@gmail.com",
    "juan＠gmail.com",
    "ｊｕａｎ．ｐｅｒｅｚ＠ｇｍａｉｌ．ｃｏｍ",
    "carlos" + ZWSP + "@gmail.com",
    "carlos.rios@gmail" + ZWSP + ".com",
    "carlos @ gmail.com",
    "carlos@ gmail.com",
    "carlos_rios arroba gmail.com",
    "carlos_rios arroba gmail punto com",
    "carlos_rios(at)gmail.com",
    "carlos_rios [at] gmail [dot] com",
    "Valeria.Núñez@Gmail.Com",
    "mafer.sánchez@hotmail.es",
    "k.ccori@unsaac.edu.pe",
    "pedidos.lurín@correo.pe",
]
for i, email in enumerate(EMAILS):
    plant("email", EMAIL_FRAMES[i % len(EMAIL_FRAMES)], email)
    plant("email", EMAIL_FRAMES[(i + 3) % len(EMAIL_FRAMES)], email.upper() if i % 2 else email.lower())
    plant("email", EMAIL_FRAMES[(i + 1) % len(EMAIL_FRAMES)], email.title())

# --- DNI -----------------------------------------------------------------------------------
def dni_spellings(n: str):
    """(phrase with {} for the number, the number as spelled)."""
    yield "DNI {}", n
    yield "DNI {}", grouped(n, (4, 4), " ")
    yield "DNI: {}", grouped(n, (4, 4), "-")
    yield "DNI {}", grouped(n, (2, 3, 3), ".")
    yield "D.N.I. N° {}", n
    yield "dni nro {}", n
    yield "DNI Nº {}", n
    yield "mi dni es {}", n
    yield "mi DNI es el {}", n
    yield "documento de identidad {}", n
    yield "DNI del titular: {}", n
    yield "DNI {}", fullwidth(n)
    yield "DNI {}", arabic_indic(n)
    yield "DNI" + NBSP + "{}", grouped(n, (4, 4), NBSP)
    yield "DNI {}", grouped(n, (4, 4), EN_DASH)
    yield "DNI {}", " ".join(n)
    yield "{} es mi DNI", n
    yield "{} (DNI)", n
    yield "{} es mi dni", grouped(n, (4, 4), " ")
    yield "{}, ese es mi número de DNI", n


DNI_FRAMES = [
    "la boleta salió con mi {} y sin nombre",
    "les di {} y aun así no encontraron el pedido",
    "para el reclamo: {}",
    "{} por si lo necesitan",
]
for round_ in range(3):
    for i, (phrase, number) in enumerate(dni_spellings(dni())):
        frame = DNI_FRAMES[(i + round_) % len(DNI_FRAMES)]
        plant("dni", frame.replace("{}", phrase), number)

# --- RUC of a person (10 + DNI + check digit) ----------------------------------------------
RUC_FRAMES = [
    "la factura a mi RUC {} por favor",
    "RUC: {}",
    "facturen a {} que es mi RUC",
    "pedí factura con ruc {} y me dieron boleta",
    "mi número de RUC es {}",
]
for i in range(15):
    number = ruc(["10", "10", "10", "15", "17"][i % 5])
    spelling = [
        number,
        grouped(number, (2, 8, 1), "-"),
        grouped(number, (2, 8, 1), " "),
        fullwidth(number),
        grouped(number, (3, 4, 4), " "),
    ][i % 5]
    frame = RUC_FRAMES[i % len(RUC_FRAMES)]
    plant("ruc", frame, spelling)
# Without the word RUC the check digit alone marks it.
for frame in ["factura a {} porfa", "{} para la factura", "me facturaron a {} que no es mío"]:
    plant("ruc", frame, ruc("10"))

# --- Carnet de extranjería and passports ----------------------------------------------------
def ce_number() -> str:
    return "00" + "".join(rng.choice("0123456789") for _ in range(7))


for frame in [
    "soy venezolana, carnet de extranjería {}",
    "mi carné de extranjería es {}",
    "CE {} para la boleta",
    "C.E. N° {}",
    "carnet de extranjeria: {}",
    "con CE Nº {} no me dejaron registrar",
    "mi carnet de extranjería {} no lo acepta la app",
    "carné de extranjería número {}",
]:
    plant("document", frame, ce_number())
plant("document", "CE {}", fullwidth(ce_number()))
plant("document", "carnet de extranjería {}", grouped(ce_number(), (3, 3, 3), " "))


def passport() -> str:
    letters = rng.choice(["", "", "AB", "X", "PE", "C"])
    return letters + "".join(rng.choice("0123456789") for _ in range(9 - len(letters)))


for frame in [
    "pasaporte {}",
    "mi pasaporte es el {}",
    "pasaporte N° {}",
    "passport number {}",
    "my passport {} was asked at the counter",
    "N° de pasaporte: {}",
    "con pasaporte {} me registré",
    "pasaporte nro. {}",
]:
    plant("document", frame, passport())

# --- Cards ---------------------------------------------------------------------------------
def card_spellings(number: str):
    yield number
    yield grouped(number, (4, 4, 4, 4), " ")
    yield grouped(number, (4, 4, 4, 4), "-")
    yield grouped(number, (4, 4, 4, 4), ".")
    yield grouped(number, (4, 4, 4, 4), NBSP)
    yield grouped(number, (4, 4, 4, 4), EN_DASH)
    yield grouped(number, (4, 4, 4, 4), ZWSP)
    yield fullwidth(grouped(number, (4, 4, 4, 4), " "))
    yield arabic_indic(number)
    yield grouped(number, (4, 4, 4, 4), " / ")


CARD_FRAMES = [
    "me cobraron dos veces a la tarjeta {}",
    "tarjeta {} rechazada sin motivo",
    "pagué con {} y no llegó nada",
    "mi visa {}, revisen el cobro",
]
for prefix in ["4", "51", "4242"]:
    for i, spelling in enumerate(card_spellings(luhn_complete(prefix, 16))):
        plant("card", CARD_FRAMES[i % len(CARD_FRAMES)], spelling)
amex = luhn_complete("37", 15)
plant("card", "amex {} cobrada", grouped(amex, (4, 6, 5), " "))
plant("card", "amex {}", amex)

# --- Addresses the writer says are their own ----------------------------------------------
ADDRESSES = [
    ("mi dirección es {}, llegaron a otra", "Av. Los Olivos 123, San Borja"),
    ("mi dirección es {}", "Jr. Huallaga 456 dpto 302, Cercado de Lima"),
    ("vivo en {} y nunca llegó", "Calle Las Begonias 245, Surquillo"),
    ("mi casa queda en {}, al costado del parque", "Mz. B Lt. 12 Urb. Santa Rosa"),
    ("mi domicilio: {}.", "Av. Arequipa 1234, Lince"),
    ("my address is {}.", "Av. Larco 345, Miraflores"),
    ("entreguen en mi casa: {}", "Jr. Junín 567, Barranco"),
    ("mi dirección de entrega es {}.", "Pasaje Los Pinos 12, Comas"),
    ("vivo en {}, cerca al mercado", "Av. Túpac Amaru 4520, Independencia"),
    ("mi dirección es {} y el motorizado se perdió", "calle Los Cedros 88 int. 4"),
    ("mi depa está en {}.", "Av. Javier Prado Este 2875, piso 7"),
    ("vivo en {}.", "Urb. Las Flores Mz. C Lt. 9, San Juan de Lurigancho"),
    ("mi dirección: {}", "Prolongación Iquitos 1540, Lince"),
    ("mi casa es {}, toquen fuerte", "Jr. Ayacucho 310, Huancayo"),
    ("I live at {} and it never came", "Calle Alcanfores 455, Miraflores"),
    ("mi dirección es {}!", "AA.HH. Villa María Mz. F Lt. 3"),
    ("mi domicilio es {}, Arequipa", "Calle Mercaderes 210"),
    ("vivo en {}", "Av. Ejército 1020 dpto. 501"),
    ("mi direccion es {}.", "Jr. Lampa 1045"),
    ("la dirección de mi casa es {}.", "Av. La Marina 2355, San Miguel"),
]
for frame, address in ADDRESSES:
    plant("address", frame, address)

# --- Near-misses: must come out unchanged ---------------------------------------------------
for note, text in [
    ("price", "pagué S/ 39.90 por 2 pollos"),
    ("price", "S/. 1,250.00 el catering completo"),
    ("price", "cobran 120 soles por persona"),
    ("price", "a S/ 9.90 el combo, bien"),
    ("price", "el menú subió de S/ 12 a S/ 15"),
    ("price", "USD 45.50 en el aeropuerto, un robo"),
    ("price", "cuesta 1 250 soles el paquete de bodas"),
    ("price", "total: S/ 987.65"),
    ("order", "pedido 45873216 llegó tarde"),
    ("order", "orden 19876543210 sin respuesta"),
    ("order", "pedido #4582193 nunca llegó"),
    ("order", "orden 2024-118734 cancelada"),
    ("order", "boleta B001-00045821"),
    ("order", "factura F001-0001234"),
    ("order", "ticket 98765 en la cola"),
    ("order", "reclamo N° 2025-000451"),
    ("order", "código de seguimiento 1Z999AA10123456784"),
    ("order", "número de pedido: 100234987"),
    ("order", "orden #2025112300045"),
    ("order", "mi pedido 876-543 sigue en camino"),
    ("order", "la hoja de reclamación 004512 no la contestaron"),
    ("order", "transacción 4111 1111 1111 1112 (rebotó)"),
    ("date", "el 12/10/2025 a las 19:30"),
    ("date", "el 9/12/2025 19:30 hicimos el pedido"),
    ("date", "del 01/12 al 15/12 cerrado"),
    ("date", "2025-10-12T19:30:00"),
    ("date", "12-10-2025 y 13-10-2025 fui dos veces"),
    ("date", "lunes 3 de noviembre de 2025"),
    ("date", "el 31.12.2025 a las 23:59 cerraron"),
    ("date", "entre 2019 y 2025 siempre bien"),
    ("year", "desde 1998 que vengo"),
    ("year", "en 2024 y 2025 ganaron el premio"),
    ("year", "el local de 1965, una tradición"),
    ("quantity", "pedí 12 alitas y vinieron 9"),
    ("quantity", "2 pollos y 1/4 de pollo"),
    ("quantity", "1 kg de ceviche para 4"),
    ("quantity", "500 g de lomo, 350 ml de chicha"),
    ("quantity", "3 x 2 en pisco sour"),
    ("quantity", "50% de descuento los martes"),
    ("quantity", "vendieron 12 500 000 panetones"),
    ("quantity", "1 000 000 de visitas en el video"),
    ("quantity", "9 de cada 10 veces llega frío"),
    ("quantity", "4.5 estrellas, antes 4.8"),
    ("quantity", "esperé 45 minutos, de 8 a 8:45"),
    ("time", "de 9 a 11 pm solo delivery"),
    ("time", "19:30-20:15 tardó"),
    ("time", "abren 9:00–22:00 todos los días"),
    ("code", "cupón QORI2025 no funcionó"),
    ("code", "código de promo 2X1MARTES"),
    ("code", "la app versión 3.12.4 se cuelga"),
    ("road", "km 21.5 de la Panamericana Sur"),
    ("ruc", "RUC de la empresa 20100047218, pidan factura"),
    ("ruc", "la empresa con RUC 20512345678 no responde"),
    ("ruc", "el RUC 20601234567 de la tienda está en la boleta"),
    ("shop address", "el local de Av. Larco 345 en Miraflores es el mejor"),
    ("shop address", "la tienda de Jr. de la Unión 500 estaba cerrada"),
    ("shop address", "en la sede de Av. Arequipa 2450 atienden lento"),
    ("shop address", "fui al de Calle Berlín 168, recomendado"),
    ("city", "vivo en Lima hace 3 años y nunca vi esto"),
    ("city", "vivo en Arequipa, aquí no llega"),
    ("city", "mi casa es tu casa, decía el mozo"),
    ("city", "my address is not needed for pickup"),
    ("dni word", "no me pidieron DNI"),
    ("dni word", "olvidé mi DNI en casa 2 veces"),
    ("dni word", "piden DNI para menores de 18"),
    ("handle", "sigan a @QoriBrasaPe"),
    ("handle", "gracias @pardos_chicken por responder"),
    ("at", "2 @ 3 soles el pan"),
    ("at", "precio@oferta en la carta"),
    ("email-like", "visiten www.pardoschicken.pe/carta"),
    ("email-like", "la web norkys.pe no carga"),
    ("phone-like", "llegó en 3 horas 20 minutos"),
    ("phone-like", "mesa 9, 8 personas, 7 platos"),
    ("phone-like", "score 9/10, 8/10 el postre"),
    ("phone-like", "ruta 1-2-3 del bus 45"),
    ("phone-like", "delivery 01 hora tarde"),
    ("phone-like", "0 de 10, 0 de 10"),
    ("phone-like", "el 51% dijo que sí"),
    ("phone-like", "pedido 9 8 7 ... nada"),
    ("phone-like", "modelo 2025, serie 987"),
    ("phone-like", "pagamos 900 800 y 700 soles en tres meses"),
    ("card-like", "0000 0000 0000 0000 de prueba"),
    ("card-like", "ganamos 1234 5678 9012 3456 puntos? no creo"),
    ("passport word", "sin pasaporte no te atienden, dicen"),
    ("passport word", "pasaporte vencido, igual me atendieron"),
    ("ce word", "aceptan carnet de extranjería?"),
    ("ce word", "CE y DNI valen igual"),
    ("unicode", "１０ de ｃａｌｉｄａｄ"),
    ("unicode", "٣ platos por ٢٠ soles"),
    ("unicode", "pagué S/" + NBSP + "39.90"),
    ("unicode", "2025" + EN_DASH + "2026 temporada"),
    ("unicode", "de 9" + EN_DASH + "11 h"),
]:
    keep(note, text)

# --- A second batch, written after the redactor passed the lines above, to see how it does on
# spellings it was not tuned on (its first result is in the README).
for frame, secret, kind in [
    ("hola, soy Pepe, mi celular: {} (solo whatsapp)", "+51 999-888-777", "phone"),
    ("Cel. {} / fijo 01 2223344", "9 9 9 1 2 3 4 5 6", "phone"),
    ("número para coordinar {}", "51 944 123 456", "phone"),
    ("me llamaron del {} para ofrecerme tarjetas", "(01) 7001234", "phone"),
    ("mándame un wasap al {}", "９４４-１２３-４５６", "phone"),
    ("mi esposo ({}) hizo el pedido", "987.111.222", "phone"),
    ("tlf: {}", "044 - 123456", "phone"),
    ("llamé al {} mil veces", "+51 987 111 222", "phone"),
    ("cualquier cosa {}", "987 11 12 22", "phone"),
    ("Mi cel {} !!!", "9871-11222", "phone"),
    ("mi correo personal {}", "Gabriela.Ñahui@gmail.com", "email"),
    ("respondan a {} porfa", "jose_luis.cárdenas98@hotmail.com", "email"),
    ("correo {} (el de trabajo)", "r.huaman@minsa.gob.pe", "email"),
    ("email: {}", "PEDRO.QUISPE@YAHOO.ES", "email"),
    ("pueden escribir a {}", "andrea arroba outlook punto com", "email"),
    ("mi mail es {} gracias", "mafe_22 @ gmail.com", "email"),
    ("la boleta salió con DNI {}", "08123456", "dni"),
    ("DNI Nro. {} a nombre de mi mamá", "41.234.567", "dni"),
    ("le dieron mi número de DNI {} a otra persona", "7 0 1 2 3 4 5 6", "dni"),
    ("{} <- mi DNI, verifiquen", "42345678", "dni"),
    ("mi documento de identidad es {}", "46781234", "dni"),
    ("D.N.I.: {}", "４２３４５６７８", "dni"),
    ("por favor facturar a RUC {}", "10412345671", "ruc"),
    ("ruc personal {}", "10-41234567-1", "ruc"),
    ("mi CE es el {} y no me dejan pagar", "001234987", "document"),
    ("Carnet de Extranjería N° {}", "000987654", "document"),
    ("pasaporte venezolano {}", "128765432", "document"),
    ("passport no. {}", "AA7654321", "document"),
    ("me cobraron en la tarjeta {} dos veces", "4000 0566 5566 5556", "card"),
    ("mi mastercard {} fue rechazada", "5555-5555-5555-4444", "card"),
    ("tarjeta terminada en... bueno, es {}", "4012888888881881", "card"),
    ("cobro indebido a {}", "3714 496353 98431", "card"),
    ("mi dirección es {} y nunca llegó", "Jr. Carabaya 831, Cercado", "address"),
    ("mi domicilio queda en {}", "Av. Universitaria 5400, Los Olivos", "address"),
    ("vivo en {}, frente al colegio", "Calle Santa Rosa 145, Chiclayo", "address"),
    ("mi casa: {}.", "Mz. K Lt. 8, Villa El Salvador", "address"),
    ("mi dirección de envío: {}", "Urb. Primavera Calle 5 Nro. 230, Trujillo", "address"),
    ("my home address is {}.", "Av. Pardo 610, Miraflores", "address"),
    ("vivimos en {} pero el pedido fue a otro lado", "Psje. San Martín 77, Cusco", "address"),
    ("mi dirección es {}", "Calle Real 12", "address"),
]:
    lines.append({"kind": kind, "text": frame.format(secret), "planted": secret, "batch": 2})
for note, text in [
    ("price", "S/ 59.90 el dúo, S/ 99.90 el familiar"),
    ("price", "me cobraron 1,299 soles por el buffet"),
    ("order", "pedido 912-345 entregado"),
    ("order", "reclamo 2025-RC-004512"),
    ("order", "mi orden #987654 sigue pendiente"),
    ("order", "nro de operación 00123456 del BCP"),
    ("order", "código de pedido 7845123690"),
    ("date", "el 05/11/2025 y el 06/11/2025"),
    ("date", "9 de diciembre, 7 pm"),
    ("date", "fecha: 2025.12.06"),
    ("year", "mejor pollería de 2023, 2024 y 2025"),
    ("quantity", "100 200 300 soles de pérdida"),
    ("quantity", "tres combos de 4 piezas = 12 piezas"),
    ("quantity", "esperé de 12:30 a 14:10"),
    ("quantity", "somos 9 personas, 3 niños"),
    ("shop address", "en el local de Av. Benavides 1555 me atendieron mal"),
    ("shop address", "la sucursal de Calle Mercaderes 120 en Arequipa es top"),
    ("shop address", "dirección del local: Av. Brasil 2855, Magdalena"),
    ("city", "vivo en Trujillo y aquí no hay delivery"),
    ("city", "mi casa está lejos, 40 minutos"),
    ("ruc", "la empresa RUC 20555555551 es la dueña"),
    ("dni word", "pidieron DNI 2 veces en la puerta"),
    ("phone word", "no contestan el teléfono en 3 días"),
    ("card word", "no aceptan tarjeta, solo efectivo y Yape"),
    ("unicode", "４ estrellas de ５"),
    ("unicode", "pagué S/\u202f120"),
    ("code", "versión 2.3.4 de la app"),
    ("code", "promo MARTES2X1 vence el 31/12"),
    ("code", "cupón 5OFF-2025 aplicado"),
    ("handle", "gracias @RokysOficial"),
]:
    lines.append({"kind": "keep", "text": text, "note": note, "batch": 2})

OUT.parent.mkdir(parents=True, exist_ok=True)
with OUT.open("w", encoding="utf-8") as out:
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
planted = sum(1 for line in lines if "planted" in line)
print(f"{OUT}: {planted} planted, {len(lines) - planted} near-misses")
