Attribute VB_Name = "TallyCheck"
' Tally Check: the ribbon's and the buttons' macros.
'
' Each one runs Python through xlwings' RunPython (the xlwings module of this project) on the
' active workbook: tallycheck.excel.entry reads the workbook, checks it with the same engine as the
' tallycheck command line, and marks it (fills, notes, a summary sheet) or clears the marks.
'
' Source of truth: addin/tallycheck/excel/vba/TallyCheck.bas in the tallycheck repository;
' addin/build_addin.py builds tallycheck.xlam and templates/tally-check-button.xlsm from it.
Option Explicit

Private Const TITLE As String = "Tally Check"

' ---- The ribbon's one callback (customUI14.xml onAction): each button's tag names the action of
' ---- tallycheck.excel.entry it runs. control is an IRibbonControl, declared As Object so that the
' ---- project needs no reference to the Office object library.
Public Sub TallyRibbon(control As Object)
    If control.Tag = "restart_python" Then
        TallyRestartPython
    ElseIf control.Tag = "save_report" Then
        TallySaveReport
    Else
        TallyRun control.Tag
    End If
End Sub

' ---- The ribbon's Findings list and Settings (customUI14.xml). Each callback's signature is the one
' ---- Office passes for its control; control is an IRibbonControl, declared As Object as above.
' The summary sheet a run writes (tallycheck.excel.target): its findings start on row 6, below the
' headers Sheet, Cell, Rule, Severity, ..., Message, and end at the first empty row.
Private Const SUMMARY_FIRST_ROW As Long = 6
Private Const SUMMARY_MESSAGE_COLUMN As Long = 10
Private Const MAX_LISTED As Long = 1000  ' as many items as a ribbon gallery shows
' The Settings' keys in the user's config file (tallycheck.excel.install reads them).
Private Const CHECKS_OFF_KEY As String = "TALLYCHECK CHECKS OFF"
Private Const TOLERANCE_KEY As String = "TALLYCHECK TOLERANCE"
Private Const NOTES_KEY As String = "TALLYCHECK NOTES"

Private TallyUI As Object  ' the ribbon (IRibbonUI), to refresh the Findings list after a run
Private TallyListed As Variant  ' the rows the Findings list shows, read from the summary sheet

Public Sub TallyRibbonLoaded(ribbon As Object)
    Set TallyUI = ribbon
End Sub

Private Sub TallyRefresh()
    ' Have the ribbon ask again for the Findings list (it also asks each time the list opens).
    If Not TallyUI Is Nothing Then TallyUI.InvalidateControl "tallyFindings"
End Sub

Private Function TallySummarySheet() As Object
    ' The active workbook's summary sheet: named tallycheck..., its A1 the title "tallycheck: ..."
    ' (tallycheck.marks.plan.is_summary_sheet), or Nothing.
    Dim sht As Object, title As Variant
    If ActiveWorkbook Is Nothing Then Exit Function
    For Each sht In ActiveWorkbook.Worksheets
        title = sht.Range("A1").Value
        If LCase$(Left$(sht.Name, 10)) = "tallycheck" And VarType(title) = vbString Then
            If Left$(title, 12) = "tallycheck: " Then
                Set TallySummarySheet = sht
                Exit Function
            End If
        End If
    Next sht
End Function

Public Sub TallyFindingsCount(control As Object, ByRef count)
    ' The summary sheet's findings, read in one call: the list shows the last run's, or none.
    Dim sht As Object, rows As Long
    TallyListed = Empty
    count = 0
    Set sht = TallySummarySheet()
    If sht Is Nothing Then Exit Sub
    If Len(CStr(sht.Cells(SUMMARY_FIRST_ROW, 1).Value)) = 0 Then Exit Sub
    rows = 1
    If Len(CStr(sht.Cells(SUMMARY_FIRST_ROW + 1, 1).Value)) > 0 Then
        rows = sht.Cells(SUMMARY_FIRST_ROW, 1).End(xlDown).Row - SUMMARY_FIRST_ROW + 1
    End If
    If rows > MAX_LISTED Then rows = MAX_LISTED
    TallyListed = sht.Cells(SUMMARY_FIRST_ROW, 1).Resize(rows, SUMMARY_MESSAGE_COLUMN).Value
    count = rows
End Sub

Public Sub TallyFindingsLabel(control As Object, index As Integer, ByRef label)
    ' "Sheet!E7  error  sum: Total 1,049 should be ..." (the message cut to fit the list).
    If IsEmpty(TallyListed) Then Exit Sub
    label = TallyListed(index + 1, 1) & "!" & TallyListed(index + 1, 2) & "  " & TallyListed(index + 1, 4) & _
            "  " & TallyListed(index + 1, 3) & ": " & Left$(CStr(TallyListed(index + 1, SUMMARY_MESSAGE_COLUMN)), 90)
End Sub

Public Sub TallyFindingsTip(control As Object, index As Integer, ByRef tip)
    If IsEmpty(TallyListed) Then Exit Sub
    tip = Left$(CStr(TallyListed(index + 1, SUMMARY_MESSAGE_COLUMN)), 1024)
End Sub

Public Sub TallyFindingsPick(control As Object, id As String, index As Integer)
    ' Go to the picked finding's cell: Python activates its sheet and selects it (entry.go_to_finding).
    If IsEmpty(TallyListed) Then Exit Sub
    TallyRun "go_to_finding:" & TallyHex(TallyListed(index + 1, 1) & "!" & TallyListed(index + 1, 2))
End Sub

Public Sub TallySettingPressed(control As Object, ByRef pressed)
    ' A check's box is ticked unless its rules are in CHECKS OFF; Notes unless NOTES is False.
    If control.Tag = "notes" Then
        pressed = LCase$(GetConfig(NOTES_KEY, "True")) <> "false"
    Else
        pressed = InStr("," & Replace(GetConfig(CHECKS_OFF_KEY, ""), " ", "") & ",", "," & Split(control.Tag, ",")(0) & ",") = 0
    End If
End Sub

Public Sub TallySettingToggle(control As Object, pressed As Boolean)
    If control.Tag = "notes" Then
        TallySetConfig NOTES_KEY, IIf(pressed, "True", "False")
    Else
        TallySetConfig CHECKS_OFF_KEY, TallyListWith(GetConfig(CHECKS_OFF_KEY, ""), control.Tag, Not pressed)
    End If
End Sub

Public Sub TallyToleranceText(control As Object, ByRef text)
    text = GetConfig(TOLERANCE_KEY, "")
End Sub

Public Sub TallyToleranceChange(control As Object, text As String)
    ' Checked by Python at the next run (5, 1%, or empty); a wrong one is then a sentence.
    TallySetConfig TOLERANCE_KEY, Trim$(text)
End Sub

Private Function TallyListWith(ByVal list As String, ByVal names As String, ByVal present As Boolean) As String
    ' The comma-separated list without names (comma-separated), then with them again if present.
    Dim item As Variant, out As String
    For Each item In Split(Replace(list, " ", ""), ",")
        If Len(item) > 0 And InStr("," & names & ",", "," & item & ",") = 0 Then out = out & "," & item
    Next item
    If present Then out = out & "," & names
    TallyListWith = Mid$(out, 2)
End Function

Private Sub TallySetConfig(ByVal key As String, ByVal value As String)
    ' Set one key in the user's own config file (GetConfigFilePath, the only file the add-in reads:
    ' never the workbook), keeping every other line: read as GetConfigFromFile reads, written back
    ' with Write #, which gives the same "KEY","VALUE" lines.
    Dim path As String, f As Integer, n As Long, i As Long, found As Boolean
    Dim keys() As String, values() As String, k As String, v As String
    On Error GoTo failed
    path = GetConfigFilePath()
    ReDim keys(0)
    ReDim values(0)
    If FileExists(path) Then
        f = FreeFile
        Open path For Input As #f
        Do While Not EOF(f)
            Input #f, k, v
            n = n + 1
            ReDim Preserve keys(n)
            ReDim Preserve values(n)
            keys(n) = k
            values(n) = v
            If LCase$(k) = LCase$(key) Then
                values(n) = value
                found = True
            End If
        Loop
        Close #f
    Else
        #If Not Mac Then
            If Dir(Left$(path, InStrRev(path, "\") - 1), vbDirectory) = "" Then MkDir Left$(path, InStrRev(path, "\") - 1)
        #End If
    End If
    If Not found Then
        n = n + 1
        ReDim Preserve keys(n)
        ReDim Preserve values(n)
        keys(n) = key
        values(n) = value
    End If
    f = FreeFile
    Open path For Output As #f
    For i = 1 To n
        Write #f, keys(i), values(i)
    Next i
    Close #f
    Exit Sub
failed:
    MsgBox "Tally Check could not save the setting to " & path & ": " & Err.Description, vbExclamation, TITLE
End Sub

' ---- Button macros (the template's buttons; also in Alt+F8 / Developer > Macros).
Public Sub TallyValidateWorkbook()
    TallyRun "validate_workbook"
End Sub

Public Sub TallyValidateSheet()
    TallyRun "validate_sheet"
End Sub

Public Sub TallyClearMarks()
    TallyRun "clear_marks"
End Sub

Public Sub TallyShowSummary()
    TallyRun "show_summary"
End Sub

Public Sub TallyShowChecked()
    TallyRun "show_checked"
End Sub

Public Sub TallyNextFinding()
    TallyRun "next_finding"
End Sub

Public Sub TallyPreviousFinding()
    TallyRun "previous_finding"
End Sub

Public Sub TallyMarkReviewed()
    TallyRun "mark_reviewed"
End Sub

Public Sub TallySaveReport()
    ' Ask where, then check the workbook and write the command line's report there (.html or .xlsx).
    Dim chosen As Variant, initial As String
    If ActiveWorkbook Is Nothing Then
        TallyRun "save_report"  ' says what to do
        Exit Sub
    End If
    initial = ActiveWorkbook.Name
    If InStrRev(initial, ".") > 0 Then initial = Left$(initial, InStrRev(initial, ".") - 1)
    initial = initial & " tallycheck report.html"
    #If Mac Then
        chosen = Application.GetSaveAsFilename(initial)
    #Else
        chosen = Application.GetSaveAsFilename(initial, _
            "Web page (*.html), *.html, Excel workbook (*.xlsx), *.xlsx", 1, "Tally Check: save the report")
    #End If
    If VarType(chosen) = vbBoolean Then Exit Sub  ' cancelled
    TallyRun "save_report:" & TallyHex(CStr(chosen))
End Sub

Private Function TallyHex(text As String) As String
    ' The text as hex digits of its UTF-16 code units: whatever a path holds (quotes, spaces,
    ' backslashes, any letter), the Python command line carries only 0-9 and A-F.
    Dim i As Long, out As String
    For i = 1 To Len(text)
        out = out & Right$("000" & Hex$(AscW(Mid$(text, i, 1)) And &HFFFF&), 4)
    Next i
    TallyHex = out
End Function

Public Sub TallyRestartPython()
    ' Stop the Python that xlwings' UDF server keeps running (tallycheck addin install --server), so
    ' that the next click runs the tallycheck installed now. Without the server there is none.
    #If Mac Then
        MsgBox "On a Mac every click starts Python afresh: there is nothing to restart.", vbInformation, TITLE
    #Else
        If LCase(GetConfig("USE UDF SERVER", "False")) = "true" Then
            KillPy
            MsgBox "Python was stopped; the next click starts it again with the tallycheck installed now.", _
                   vbInformation, TITLE
        Else
            MsgBox "Tally Check starts Python afresh on every click, so there is nothing to restart " & _
                   "(a Python that stays running between clicks: tallycheck addin install --server).", _
                   vbInformation, TITLE
        End If
    #End If
End Sub

' ---- Plumbing.
Private Function TallyPythonCommand(action As String) As String
    ' The Python that RunPython runs: tallycheck.excel.entry.run(action), or, when the configured
    ' Python has no tallycheck, a message box saying so (instead of a traceback).
    TallyPythonCommand = "import importlib.util as u;import xlwings as xw;" & _
        "m=u.find_spec('tallycheck') and __import__('tallycheck.excel.entry',fromlist=['run']);" & _
        "m.run('" & action & "') if m else xw.Book.caller().app.alert(" & _
        "'The Python that Tally Check is set to use does not have tallycheck installed. " & _
        "In a terminal, install it (pip install tallycheck) and run: tallycheck addin install'," & _
        "title='Tally Check',mode='critical')"
End Function

Public Sub TallyRun(action As String)
    Dim interpreter As String

    If ActiveWorkbook Is Nothing Then
        #If Mac Then
            MsgBox "Open the workbook to check first.", vbInformation, TITLE
        #Else
            If Application.ProtectedViewWindows.Count > 0 Then
                MsgBox "This workbook is open in Protected View: click Enable Editing in the yellow bar " & _
                       "at the top first, then click again.", vbInformation, TITLE
            Else
                MsgBox "Open the workbook to check first.", vbInformation, TITLE
            End If
        #End If
        Exit Sub
    End If
    interpreter = TallyInterpreter()
    If interpreter = "" Then
        MsgBox "Tally Check could not find Python." & vbNewLine & vbNewLine & _
               "In a terminal, run once:" & vbNewLine & "    tallycheck addin install" & vbNewLine & _
               "It tells Tally Check which Python to use (" & GetConfigFilePath() & ").", _
               vbExclamation, TITLE
        Exit Sub
    End If
    Application.StatusBar = "Tally Check: starting Python..."
    RunPython TallyPythonCommand(action)
    #If Not Mac Then
        ' On Windows RunPython waits for Python; on a Mac it returns at once and Python resets it.
        Application.StatusBar = False
    #End If
    TallyRefresh
End Sub

Private Function TallyInterpreter() As String
    ' The configured interpreter, if it exists: INTERPRETER_WIN / INTERPRETER_MAC from the user's
    ' config file (the only place the add-in reads settings from: never the workbook being checked),
    ' or "python" in the conda environment of CONDA PATH / CONDA ENV, which RunPython activates.
    Dim interpreter As String
    #If Mac Then
        interpreter = GetConfig("INTERPRETER_MAC", "")
    #Else
        interpreter = GetConfig("INTERPRETER_WIN", "")
        If interpreter = "" And GetConfig("CONDA PATH", "") <> "" And GetConfig("CONDA ENV", "") <> "" Then
            TallyInterpreter = "python"
            Exit Function
        End If
    #End If
    If interpreter = "" Then interpreter = GetConfig("INTERPRETER", "")
    If interpreter = "" Then Exit Function
    #If Not Mac Then
        If interpreter <> "python" And interpreter <> "pythonw" Then
            If Not FileExists(interpreter) Then Exit Function
        End If
    #End If
    TallyInterpreter = interpreter
End Function

' ---- The restore record, for Python where Excel's object model has no CustomXMLParts over its
' ---- bridge (Excel for Mac's AppleScript): tallycheck.excel.xlapi calls these with App.macro.
Public Function TallyRecordRead(bookName As String, ns As String) As String
    Dim parts As Object
    Set parts = Workbooks(bookName).CustomXMLParts.SelectByNamespace(ns)
    If parts.Count > 0 Then TallyRecordRead = parts(parts.Count).XML
End Function

Public Function TallyRecordWrite(bookName As String, ns As String, xml As String) As Boolean
    Dim parts As Object, i As Long
    Set parts = Workbooks(bookName).CustomXMLParts.SelectByNamespace(ns)
    For i = parts.Count To 1 Step -1
        parts(i).Delete
    Next i
    If Len(xml) > 0 Then Workbooks(bookName).CustomXMLParts.Add xml
    TallyRecordWrite = True
End Function

Public Function TallyProtection(bookName As String) As String
    ' "1" or "0" (is the workbook structure protected), then ":" and each protected sheet's name
    ' (":" cannot be in a sheet name). tallycheck.excel.xlapi.protected calls it on a Mac.
    Dim wb As Workbook, sht As Worksheet, answer As String
    Set wb = Workbooks(bookName)
    If wb.ProtectStructure Then answer = "1" Else answer = "0"
    For Each sht In wb.Worksheets
        If sht.ProtectContents Then answer = answer & ":" & sht.Name
    Next sht
    TallyProtection = answer
End Function
