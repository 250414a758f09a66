<?xml version="1.0" encoding="UTF-8"?>
<datastore>
<totalrecord>2</totalrecord>
<totalpage>1</totalpage>
<recordset>
<record><![CDATA[
<li><a href="/art/2024/1/22/art_1229_3456789.html" title="临汾市尧都区人民政府办公室2023年政府信息公开工作年度报告" target="_blank">临汾市尧都区人民政府办公室2023年政府信息公开工作年度报告</a><span>2024-01-22</span></li>
]]></record>
<record><![CDATA[
<li><a href="/art/2023/1/20/art_1229_3300001.html" title="临汾市尧都区人民政府办公室2022年政府信息公开工作年度报告" target="_blank">临汾市尧都区人民政府办公室2022年政府信息公开工作年度报告</a><span>2023-01-20</span></li>
]]></record>
</recordset>
</datastore>
