"""``litho materials``: the built-in films, crosslinkers and developers."""

from __future__ import annotations

from . import example_help

ORDER = 60
KINDS = ("film", "crosslinker", "developer")


def register(subparsers) -> None:
    p = subparsers.add_parser("materials", **example_help(
        "List the built-in material library: films, crosslinkers and developers with their family, "
        "photoactive arms and the wavelengths that have absorption data. --show NAME prints every "
        "parameter of one material with its source.",
        "litho materials --kind crosslinker"))
    p.add_argument("--kind", choices=KINDS, default=None, help="list only this kind")
    p.add_argument("--show", metavar="NAME", default=None,
                   help="print every parameter of one material, with its source")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import materials
    from ..errors import LithoInputError

    if args.show:
        kinds = [args.kind] if args.kind else list(KINDS)
        for kind in kinds:
            try:
                obj = materials.resolve(kind, {"material": args.show})
            except LithoInputError:
                continue
            print(format_material(kind, obj))
            return 0
        known = "; ".join(f"{k}s: {', '.join(materials.names(k))}" for k in kinds)
        raise LithoInputError(f"--show {args.show!r} is not a known material; {known}")
    print(table_text([args.kind] if args.kind else list(KINDS)))
    return 0


def table_text(kinds) -> str:
    """The library as aligned text tables, one per kind."""
    from .. import materials

    blocks = []
    for kind in kinds:
        rows = []
        for name in materials.names(kind):
            obj = materials.resolve(kind, {"material": name})
            if kind == "film":
                rows.append((name, obj.family, "-", _waves(obj.wavelengths_nm),
                             f"{obj.qd_diameter_nm:g} nm QD, PLQY0 {obj.plqy0:g}, {obj.ligand}"))
            elif kind == "crosslinker":
                arms = f"{obj.arms}, {'tethered' if obj.tethered else 'free'}"
                rows.append((name, obj.family, arms, _waves(obj.wavelengths_nm), obj.description))
            else:
                rows.append((name, obj.solvent, "-", "-",
                             f"tau_dev {obj.dissolution_time_s:g} s, swelling g_th {obj.swelling_gel_threshold:g}"))
        header = ("name", "family" if kind != "developer" else "solvent", "arms", "wavelengths (nm)", "notes")
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]
        lines = [f"{kind}s"]
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header[:4], widths)) + "  " + header[4])
        for r in rows:
            lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(r[:4], widths)) + "  " + str(r[4]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _waves(wavelengths) -> str:
    return ", ".join(f"{w:g}" for w in wavelengths) or "-"


def format_material(kind: str, obj) -> str:
    """Every field of a material with its source."""
    import dataclasses

    lines = [f"{kind} {obj.name}"]
    for f in dataclasses.fields(obj):
        if f.name in ("name", "sources"):
            continue
        value = getattr(obj, f.name)
        if f.name.endswith("_by_wavelength"):
            for w, v in value:
                src = obj.sources.get(f"{f.name}.{w:g}", "")
                lines.append(f"  {f.name}[{w:g} nm] = {v:g}" + (f"    # {src}" if src else ""))
            continue
        src = obj.sources.get(f.name, "")
        lines.append(f"  {f.name} = {value}" + (f"    # {src}" if src else ""))
    return "\n".join(lines)
