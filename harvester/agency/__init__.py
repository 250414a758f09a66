"""Agency identity: which agency a printed name means, as a stable key.

An agency is a government (人民政府) or one of its departments in one administrative division.
Its key is ``<GB/T 2260 code>:<department>`` (``370305:人民政府办公室``), so every way of printing
it — 临淄区人民政府办公室, 淄博市临淄区人民政府办公室, 山东省淄博市临淄区人民政府办公室,
临淄区政府办公室 — is one agency, and the same short name in two places (北京市朝阳区人民政府,
长春市朝阳区人民政府) is two.

Resolution (`resolve`) uses the portal's context first (its registry `division_code`, or the
division its registry `agency` names), then the printed name:

1. The divisions printed at the start of the name (山东省淄博市临淄区…) are matched against the
   division dataset (`harvester.agency.divisions`, current and former names); the rest is the
   department (人民政府办公室). The printed chain must be consistent (长春市 + 朝阳区 → 220104).
2. No division printed (工业和信息化局): the portal's division.
3. Several divisions fit the printed name (朝阳区…): the one that is the portal's division or
   lies inside it (a city portal republishing its districts' reports), else the one enclosing it.
4. Still several, or no portal: the name is **ambiguous** — filed under its own name
   (key ``name:<normalized name>``, no division code) and recorded with its candidates,
   never merged by guess. A name naming no known division is filed by name too.

The database side (stable ids, aliases, recorded ambiguities) is `harvester.agency.store`.
"""
from __future__ import annotations

from harvester.agency.resolve import GOVERNMENT, Identity, normalize_name, resolve

__all__ = ["GOVERNMENT", "Identity", "normalize_name", "resolve"]
