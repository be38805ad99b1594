"""The epoch table of the stimulus designer, in the layout of Clampex's: one column per
epoch (A, B, C, ...), one row per field (type, first level, delta level, first duration,
delta duration, then the kind-specific fields).

The table holds text, not numbers, so nothing the user types is ever lost: a cell is
read as a float when it parses, and otherwise handed to :func:`rig.protocols.protocol.
protocol_from_dict` as typed, which rejects it with a message naming the field. An empty
cell means "absent" (for a delta: no change from sweep to sweep). Rows that no epoch
uses are hidden; cells that do not apply to their epoch's kind are greyed and keep their
text, so switching a ramp to a step and back loses nothing.
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QComboBox, QHeaderView, QTableWidget, QTableWidgetItem

from rig.protocols.epochs import EPOCH_KINDS, delta_name
from ui.look import theme

KIND_ROW = 0
FIELD_LABELS = (  # field -> what the row header says; unknown future fields show their key
    ("level", "First level"), ("duration_ms", "First duration"),
    ("end_level", "End level"), ("pulse_level", "Pulse level"),
    ("pulse_width_ms", "Pulse width"), ("period_ms", "Period"),
    ("amplitude", "Amplitude"), ("frequency_hz", "Frequency"),
)
NEW_FIELD_VALUES = (  # text put into an empty required cell when a kind is chosen
    ("duration_ms", "10"), ("pulse_width_ms", "1"), ("period_ms", "10"),
    ("amplitude", "10"), ("frequency_hz", "10"),
)
ERROR_BACKGROUND = "#7a2323"
ERROR_FOREGROUND = "#ffffff"
INAPPLICABLE_FOREGROUND = "#6b6e75"
INAPPLICABLE_BACKGROUND = "#15181c"
MAX_EPOCHS = 100


def column_letter(index):
    """Clampex-style epoch name of a 0-based column: A ... Z, AA, AB, ..."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def format_number(value):
    """A float as the shortest text that reads back to the same float ('-65', '0.1')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def parse_cell(text):
    """A cell's value for the protocol dict: None when empty, a float when it parses,
    otherwise the text itself (the protocol validator then says it is not a number)."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _field_rows():
    """(key, base field) of each row after the type row: every field then its delta."""
    labels = dict(FIELD_LABELS)
    fields = [key for key, _ in FIELD_LABELS]
    for spec in EPOCH_KINDS.values():
        fields += [key for key in spec if key not in fields]
    present = {key for spec in EPOCH_KINDS.values() for key in spec}
    rows = []
    for key in fields:
        if key in present:
            rows += [(key, key, labels.get(key, key)), (delta_name(key), key, None)]
    return tuple(rows)


def _row_label(key, base, label, level_unit):
    """Row header text with its unit: 'First level (mV)', 'Delta duration (ms)'."""
    unit = "ms" if base.endswith("_ms") else "Hz" if base.endswith("_hz") else level_unit
    if label is None:
        base_label = dict(FIELD_LABELS).get(base, base)
        label = "Delta " + base_label.removeprefix("First ").lower()
    return f"{label} ({unit})"


class EpochTable(QTableWidget):
    """Epochs as columns, fields as rows; emits ``edited`` on every committed change."""

    edited = Signal()
    rowsShown = Signal()  # the set of visible rows changed (the table wants another height)

    def __init__(self, parent=None):
        self._rows = _field_rows()  # (key, base field, label or None for a delta)
        super().__init__(1 + len(self._rows), 0, parent)
        self.setObjectName("epochTable")
        self._marked = []  # cells or widgets currently showing an error
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(84)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectColumns)
        self.setVerticalScrollMode(QTableWidget.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollMode(QTableWidget.ScrollMode.ScrollPerPixel)
        self.set_level_unit("mV")
        self.itemChanged.connect(self._on_item_changed)

    def sizeHint(self):
        """Tall enough for the header, every visible row and a horizontal scroll bar."""
        hint = super().sizeHint()
        rows = sum(self.rowHeight(r) for r in range(self.rowCount()) if not self.isRowHidden(r))
        height = (self.horizontalHeader().sizeHint().height() + rows
                  + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth())
        hint.setHeight(height)
        return hint

    # -- reading and writing ---------------------------------------------------------

    def row_of(self, key):
        """Row index of a field key ('kind', 'level', 'level_delta', ...) or None."""
        if key == "kind":
            return KIND_ROW
        for row, (name, _, _) in enumerate(self._rows, start=1):
            if name == key:
                return row
        return None

    def set_level_unit(self, unit):
        """Show levels in a unit ('mV' or 'pA') in the row headers."""
        labels = ["Type"] + [_row_label(k, b, lab, unit) for k, b, lab in self._rows]
        self.setVerticalHeaderLabels(labels)

    def kind(self, column):
        """The epoch kind chosen in a column."""
        return self.cellWidget(KIND_ROW, column).currentText()

    def columns(self):
        """Every epoch as typed: [{'kind': str, field: text, ...}, ...] (empty cells left out)."""
        result = []
        for col in range(self.columnCount()):
            column = {"kind": self.kind(col)}
            for row, (key, _, _) in enumerate(self._rows, start=1):
                item = self.item(row, col)
                if item is not None and item.text():
                    column[key] = item.text()
            result.append(column)
        return result

    def set_columns(self, columns):
        """Replace the table's contents with columns as returned by :meth:`columns`."""
        self.clear_errors()
        was_blocked = self.blockSignals(True)
        try:
            self.setColumnCount(0)
            self.setColumnCount(len(columns))
            for col, column in enumerate(columns):
                self._set_column(col, column)
        finally:
            self.blockSignals(was_blocked)
        self.setHorizontalHeaderLabels([column_letter(c) for c in range(len(columns))])
        self._update_rows()

    def set_epochs(self, epochs):
        """Show rig.protocols.protocol.Epoch values (file units) in the table."""
        self.set_columns([{"kind": e.kind, **{k: format_number(v) for k, v in e.values.items()}}
                          for e in epochs])

    def epoch_dicts(self):
        """The epochs as protocol-file dicts: applicable, non-empty cells only."""
        result = []
        for column in self.columns():
            spec = EPOCH_KINDS[column["kind"]]
            epoch = {"kind": column["kind"]}
            for key, base, _ in self._rows:
                if base in spec and key in column:
                    value = parse_cell(column[key])
                    if value is not None:
                        epoch[key] = value
            result.append(epoch)
        return result

    def _set_column(self, col, column):
        combo = _KindCombo()
        combo.addItems(list(EPOCH_KINDS))
        combo.setCurrentText(column.get("kind", "step"))
        combo.currentTextChanged.connect(lambda _text, c=combo: self._on_kind_changed(c))
        self.setCellWidget(KIND_ROW, col, combo)
        for row, (key, _, _) in enumerate(self._rows, start=1):
            self.setItem(row, col, QTableWidgetItem(column.get(key, "")))
        self._style_column(col)

    # -- columns ---------------------------------------------------------------------

    def current_epoch(self):
        """0-based index of the selected epoch, or the last one when none is selected."""
        col = self.currentColumn()
        return col if 0 <= col < self.columnCount() else self.columnCount() - 1

    def add_epoch(self):
        """Insert a 10 ms step after the selected epoch, at the level of the selected one."""
        if self.columnCount() >= MAX_EPOCHS:
            return
        columns = self.columns()
        at = self.current_epoch() + 1
        level = columns[at - 1].get("level", "0") if columns else "0"
        columns.insert(at, {"kind": "step", "level": level, "duration_ms": "10"})
        self._rewrite(columns, at)

    def remove_epoch(self):
        """Remove the selected epoch (the last one when none is selected); one always stays."""
        if self.columnCount() <= 1:
            return
        columns = self.columns()
        at = self.current_epoch()
        del columns[at]
        self._rewrite(columns, min(at, len(columns) - 1))

    def move_epoch(self, offset):
        """Move the selected epoch left (offset -1) or right (+1)."""
        columns = self.columns()
        at = self.current_epoch()
        to = at + offset
        if not (0 <= at < len(columns) and 0 <= to < len(columns)):
            return
        columns[at], columns[to] = columns[to], columns[at]
        self._rewrite(columns, to)

    def _rewrite(self, columns, select):
        self.set_columns(columns)
        self.setCurrentCell(1, select)
        self.edited.emit()

    # -- applicability -----------------------------------------------------------------

    def _on_kind_changed(self, combo):
        for col in range(self.columnCount()):
            if self.cellWidget(KIND_ROW, col) is combo:
                self._fill_new_fields(col)
                self._style_column(col)
        self._update_rows()
        self.edited.emit()

    def _fill_new_fields(self, col):
        """Give empty required cells of a newly chosen kind a starting value."""
        spec = EPOCH_KINDS[self.kind(col)]
        level = self.item(self.row_of("level"), col).text() or "0"
        starts = dict(NEW_FIELD_VALUES)
        was_blocked = self.blockSignals(True)
        try:
            for key in spec:
                item = self.item(self.row_of(key), col)
                if not item.text():
                    item.setText(starts.get(key, level))
        finally:
            self.blockSignals(was_blocked)

    def _style_column(self, col):
        """Grey out and lock the cells that do not apply to the column's kind."""
        spec = EPOCH_KINDS[self.kind(col)]
        was_blocked = self.blockSignals(True)
        try:
            for row, (_, base, _) in enumerate(self._rows, start=1):
                item = self.item(row, col)
                applies = base in spec
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                item.setFlags(flags | Qt.ItemFlag.ItemIsEditable if applies else flags)
                item.setForeground(QBrush() if applies else theme.color(INAPPLICABLE_FOREGROUND))
                item.setBackground(QBrush() if applies else theme.color(INAPPLICABLE_BACKGROUND))
                item.setToolTip("" if applies else f"not used by a {self.kind(col)} epoch")
        finally:
            self.blockSignals(was_blocked)

    def _update_rows(self):
        """Hide the rows that no epoch's kind uses."""
        used = set()
        for col in range(self.columnCount()):
            used |= set(EPOCH_KINDS[self.kind(col)])
        before = [self.isRowHidden(r) for r in range(self.rowCount())]
        for row, (_, base, _) in enumerate(self._rows, start=1):
            self.setRowHidden(row, base not in used)
        if before != [self.isRowHidden(r) for r in range(self.rowCount())]:
            self.updateGeometry()
            self.rowsShown.emit()

    # -- errors ------------------------------------------------------------------------

    def mark_error(self, epoch, key, message):
        """Mark a cell (or the epoch's header when the field has no row) with a message."""
        if not 0 <= epoch < self.columnCount():
            return
        row = self.row_of(key) if key else None
        if row == KIND_ROW:
            combo = self.cellWidget(KIND_ROW, epoch)
            combo.setProperty("invalid", True)
            combo.setToolTip(message)
            combo.style().polish(combo)
            self._marked.append((epoch, "kind", message))
            return
        item = self.item(row, epoch) if row is not None else self.horizontalHeaderItem(epoch)
        was_blocked = self.blockSignals(True)
        try:
            item.setBackground(theme.color(ERROR_BACKGROUND))
            item.setForeground(theme.color(ERROR_FOREGROUND))
            item.setToolTip(message)
        finally:
            self.blockSignals(was_blocked)
        self._marked.append((epoch, key if row is not None else None, message))
        if row is not None:
            self.setRowHidden(row, False)
            self.scrollToItem(item)

    def clear_errors(self):
        """Remove every error mark."""
        marked, self._marked = self._marked, []
        for col, key, _ in marked:
            if col >= self.columnCount():
                continue
            if key == "kind":
                combo = self.cellWidget(KIND_ROW, col)
                combo.setProperty("invalid", False)
                combo.setToolTip("")
                combo.style().polish(combo)
            elif key is None:
                header = self.horizontalHeaderItem(col)
                header.setBackground(QBrush())
                header.setForeground(QBrush())
                header.setToolTip("")
            else:
                self._style_column(col)

    def errors(self):
        """(epoch, field key or None, message) of each mark, for tests and callers."""
        return list(self._marked)

    def apply_theme(self, _look):
        """Repaint the greyed and marked cells in the look shown (their brushes were
        taken from the look of the moment they were set)."""
        marked = self.errors()
        self.clear_errors()
        for col in range(self.columnCount()):
            self._style_column(col)
        for col, key, message in marked:
            self.mark_error(col, key, message)

    def _on_item_changed(self, _item):
        self.edited.emit()


class _KindCombo(QComboBox):
    """The type cell: ignores the mouse wheel unless focused, so scrolling the table
    never changes an epoch's kind by accident."""

    def __init__(self):
        super().__init__()
        self.setObjectName("epochKind")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event):
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()
